"""The reference app's Lambda handlers, one module per pattern (see DESIGN.md's pattern set).

Each module's ``handler`` is what ``instrumented_app/template.yaml`` names; handlers are
thin edges over pure logic kept beside them.
"""
