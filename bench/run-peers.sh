#!/usr/bin/env bash
# ChatBot against a Slack Bolt app and a botbuilder bot under the same load, one after the other on this machine:
# installs the peers from npm (bench/peers, never shipped), builds ChatBot and the load generator in Release, runs
# every scenario, prints the table and writes bench/RESULTS.md. Extra arguments go to the load generator, e.g.
#   bench/run-peers.sh --conversations 1,50 --turns 2
set -euo pipefail
cd "$(dirname "$0")/.."
(cd bench/peers && npm ci --no-audit --no-fund --loglevel=error)
dotnet build BotHost -c Release -v q -nologo >/dev/null
dotnet build bench/load -c Release -v q -nologo >/dev/null
dotnet bench/load/bin/Release/net10.0/ChatBot.LoadBench.dll --write bench/RESULTS.md "$@"
