"""bleboard: host side of the bleboard stack (port over Bumble, virtual radio, tools).

Never frozen to a board; `bluetooth`, `aioble` and `_bleio` are the public APIs.
"""

__version__ = "0.1.0"
