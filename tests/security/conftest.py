"""The security suite borrows the API's fixture (a throwaway embedded store behind falcon's
TestClient) and the store fixture that runs a test on both adapters."""

from tests.integration.conftest import store  # noqa: F401 - fixtures, found by pytest by name
from tests.unit.crossbar_api.conftest import api  # noqa: F401
