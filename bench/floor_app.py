"""The benchmark's floor: a bare Flask app that verifies an RS256 JWT and renders a page."""

from __future__ import annotations

import os

import jwt
import requests
from flask import Flask, render_template_string, request

PAGE = "<!doctype html><title>Floor</title><main><h1>Hello {{ name }}</h1></main>"
_jwks = requests.get(os.environ["FLOOR_JWKS_URL"], timeout=10).json()
KEYS = {k["kid"]: jwt.algorithms.RSAAlgorithm.from_jwk(k) for k in _jwks["keys"]}
AUDIENCE = os.environ["FLOOR_AUDIENCE"]

app = Flask(__name__)


@app.post("/launch")
def launch() -> str:
    token = request.form["id_token"]
    kid = jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(token, KEYS[kid], algorithms=["RS256"], audience=AUDIENCE)
    return render_template_string(PAGE, name=claims.get("name", ""))
