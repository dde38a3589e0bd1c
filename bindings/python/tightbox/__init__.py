"""Run untrusted code in the tightbox sandbox, from Python.

    >>> import tightbox
    >>> tightbox.run("print(6 * 7)").stdout
    '42\\n'

tightbox.run() uses the tightbox binary; tightbox.Client(url_or_socket).run() a `tightbox
serve` server. Both return a Result; failures of tightbox itself raise TightboxError subclasses.
"""
from .client import Client
from .errors import (AuthError, BinaryNotFound, ExecError, Overloaded, ProfileError, RequestTooLarge,
                     ServerError, SetupError, TightboxError, Unavailable, UsageError)
from .local import find_binary, run
from .result import Result

__version__ = "0.1.0"
__all__ = ["run", "Client", "Result", "find_binary", "TightboxError", "BinaryNotFound", "UsageError",
           "ProfileError", "SetupError", "ExecError", "ServerError", "AuthError", "RequestTooLarge",
           "Overloaded", "Unavailable"]
