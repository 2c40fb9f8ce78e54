#!/usr/bin/env bash
# Adds a migration named $1 to every provider's set (Sqlite, Postgres, SqlServer).
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: ChatData/add-migration.sh <Name>}
dotnet tool restore >/dev/null
for p in Sqlite Postgres SqlServer; do
  dotnet ef migrations add "$name" --project ChatData --startup-project ChatData \
    --context "${p}ChatDbContext" --output-dir "Migrations/$p" --namespace "ChatBot.ChatData.Migrations.$p"
done
# dotnet ef writes a snapshot it cannot find under a folder named after the namespace; keep them beside their migrations.
if [ -d ChatData/ChatBot ]; then
  for p in Sqlite Postgres SqlServer; do
    [ -f "ChatData/ChatBot/ChatData/Migrations/$p/${p}ChatDbContextModelSnapshot.cs" ] &&
      mv "ChatData/ChatBot/ChatData/Migrations/$p/${p}ChatDbContextModelSnapshot.cs" "ChatData/Migrations/$p/"
  done
  rm -rf ChatData/ChatBot
fi
rm -f ChatData/design-time.db
