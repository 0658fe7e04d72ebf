"""A stateful emulator of the Databricks REST endpoints the controller uses.

The controller (and the tests) reach it through the real `databricks-sdk`, as
they would reach a workspace. See README.md in this folder.
"""

from sandbox.databricks.server import DEFAULT_TOKEN, DEFAULT_USER, Emulator
from sandbox.databricks.state import Timings

__all__ = ["DEFAULT_TOKEN", "DEFAULT_USER", "Emulator", "Timings"]
