"""Is the ``server`` extra installed? ``ossutil-server`` asks before importing anything of it.

``pip install ossutil-py`` installs the CLI alone; the entry point ``ossutil-server`` comes with
it, and run there it must say what to install rather than end in a traceback. This module
imports only the standard library.
"""

from __future__ import annotations

# The ``server`` extra of pyproject.toml (import name -> distribution), which a CLI-only
# ``pip install ossutil-py`` does not bring; ``ossutil-server`` names what is missing.
SERVER_DEPENDENCIES = (("aiohttp", "aiohttp"), ("cryptography", "cryptography"),
                       ("fastcrc", "fastcrc"), ("acme", "acme"))


def missing_dependencies(modules: tuple[tuple[str, str], ...] = SERVER_DEPENDENCIES) -> str:
    """One line naming the server's missing dependencies and the install command, or ""."""
    import importlib.util

    missing = [distribution for module, distribution in modules
               if importlib.util.find_spec(module) is None]
    if not missing:
        return ""
    return (f"the server's dependencies are not installed (missing: {', '.join(missing)}); "
            "install them with: pip install 'ossutil-py[server]'")
