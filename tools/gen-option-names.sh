#!/bin/sh
# gen-option-names.sh writes the option names a MariaDB server accepts, one
# per line with '_' for '-', sorted: the list internal/guest/optionname.go
# embeds to resolve abbreviated option names the way the server does.
#
#   tools/gen-option-names.sh > internal/guest/options/mariadb-10.11.txt
#
# Run it as root on a machine with the server installed (mariadbd needs
# --user=root to print its help as root). The names come from the option
# section of `mariadbd --verbose --help`, which includes the options of the
# compiled-in plugins (InnoDB) and wsrep. Options the server hides from its
# help (no description) are not listed; the managed-key checks in
# optionname.go do not depend on this list.
set -eu
server=${MARIADBD:-mariadbd}
"$server" --no-defaults --user=root --verbose --help 2>/dev/null |
	sed -n '/^  --allow-suspicious-udfs/,/^Variables (--variable-name=value)/p' |
	grep -oE '^  (-[A-Za-z#?], )?--[A-Za-z0-9_-]+' |
	sed -E 's/.*--//' | tr - _ | LC_ALL=C sort -u
