"""Schemathesis hooks for Parvis's REST API, loaded by tests/tests/api_schema.rs
(SCHEMATHESIS_HOOKS=<this file>).

- Path parameters: half the generated cases use the community, tool and page the test
  created (PARVIS_ST_SPACE, PARVIS_ST_TOOL, PARVIS_ST_ID), so handlers run past their 404s.
- Authorization: the user's Matrix token, given with --header (it takes precedence over hook
  headers, so the admin operations are only probed without the admin token: 401).
- Check `matrix_error_body`: every 4xx/5xx answer is Matrix-style JSON,
  {"errcode": "M_…" or "ORG.PARVIS_…", "error": "…"}, with a status the OpenAPI description
  documents for the operation.
"""

import os
import re

import schemathesis
from hypothesis import strategies as st

REAL = {
    "space": os.environ.get("PARVIS_ST_SPACE"),
    "tool": os.environ.get("PARVIS_ST_TOOL"),
    "id": os.environ.get("PARVIS_ST_ID"),
}
ERRCODE = re.compile(r"^(M|ORG\.PARVIS)_[A-Z0-9_]+$")


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    real = dict(path_parameters)
    for name, value in REAL.items():
        if name in real and value:
            real[name] = value
    return st.sampled_from([path_parameters, real])


@schemathesis.check
def matrix_error_body(ctx, response, case):
    """Every error answer is {"errcode", "error"} JSON with a documented status."""
    status = response.status_code
    if status < 400:
        return None
    # The unsupported_method check sends other methods (TRACE…): their 405 cannot be documented
    # on the operation, only its body is checked.
    probed_other_method = case.method.upper() != case.operation.method.upper()
    documented = case.operation.definition.raw.get("responses", {})
    family = f"{str(status)[0]}XX"
    if not probed_other_method and str(status) not in documented and family not in documented and "default" not in documented:
        raise AssertionError(
            f"HTTP {status} is not documented for {case.operation.label} "
            f"(documented: {', '.join(sorted(documented))})"
        )
    content_type = response.headers.get("content-type") or response.headers.get("Content-Type") or []
    if isinstance(content_type, str):
        content_type = [content_type]
    if not any(value.split(";")[0].strip() == "application/json" for value in content_type):
        raise AssertionError(
            f"HTTP {status} answered with content type {content_type!r}, not application/json: "
            f"{response.text[:300]!r}"
        )
    try:
        body = response.json()
    except Exception as error:  # noqa: BLE001 - any decoding failure is the finding
        raise AssertionError(f"HTTP {status} body is not JSON ({error}): {response.text[:300]!r}")
    if not isinstance(body, dict):
        raise AssertionError(f"HTTP {status} body is not an object: {response.text[:300]!r}")
    errcode, error = body.get("errcode"), body.get("error")
    if not isinstance(errcode, str) or not ERRCODE.match(errcode):
        raise AssertionError(f"HTTP {status} without a Matrix errcode: {response.text[:300]!r}")
    if not isinstance(error, str) or not error:
        raise AssertionError(f"HTTP {status} without an error message: {response.text[:300]!r}")
    return None
