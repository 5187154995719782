#!/usr/bin/env bash
# README command (a): install everything, then serve TenderHall on the embedded default (SQLite and
# a local folder under ./var) with demo data.  Extra arguments go to `tenderhall serve`.
source "$(dirname "$0")/bootstrap.sh"
exec uv run tenderhall serve --demo "$@"
