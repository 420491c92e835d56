#!/usr/bin/env bash
# Runs a startup script the way MWAA does: *source* it in a shell, then save the environment
# once it has finished. If the script exits (an `exit`, or any failure under `set -e`), the
# shell ends before the save and nothing is kept: on MWAA, the environment fails to start.
# Usage: mwaa_startup.sh <startup.sh> <file to save the environment to (NUL-separated)>
source "$1"
env -0 > "$2"
