#!/usr/bin/env bash
# pg_dump of DATABASE_URL (the asyncpg URL is turned into a libpq one) into BACKUP_DIR,
# in pg_dump's custom format (restore with pg_restore); dumps older than BACKUP_KEEP_DAYS go.
set -euo pipefail
: "${DATABASE_URL:?DATABASE_URL is not set}"
dir="${BACKUP_DIR:-/var/backups/crmbot}"
keep="${BACKUP_KEEP_DAYS:-14}"
url="${DATABASE_URL/postgresql+asyncpg:/postgresql:}"
mkdir -p "$dir"
target="$dir/crmbot-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --no-owner --file="$target.partial" "$url"
mv "$target.partial" "$target"
find "$dir" -name 'crmbot-*.dump' -mtime +"$keep" -delete
echo "backup written: $target"
