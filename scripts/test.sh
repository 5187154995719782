#!/usr/bin/env bash
# README command (b): install everything, then run the whole test suite.
# TENDERHALL_TEST_BACKENDS=sqlite,postgresql also runs every database test on PostgreSQL
# (TENDERHALL_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/postgres).
export TENDERHALL_BOOTSTRAP_TESTS=1  # bootstrap also installs Chromium for the browser tests
source "$(dirname "$0")/bootstrap.sh"
exec uv run pytest -p no:cacheprovider "$@"
