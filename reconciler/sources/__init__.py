"""Where records come from: one protocol (``base.Source``), one module per backend."""
