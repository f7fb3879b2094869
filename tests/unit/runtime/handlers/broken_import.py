"""A handler module whose import fails, as a deployment with a missing dependency does."""

import a_module_that_is_not_installed  # type: ignore[import-not-found]  # noqa: F401


def handler(event: object, context: object) -> None:
    return None
