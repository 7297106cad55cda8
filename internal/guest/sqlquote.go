package guest

import (
	"fmt"
	"strings"
)

// Statements that carry user input are built here and nowhere else. The
// session they run in has NO_BACKSLASH_ESCAPES removed from sql_mode (see
// sessionSetup), so the escaping below is the one the server applies.

// quoteString returns s as a single-quoted SQL string literal.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'':
			b.WriteString(`\'`)
		case '\\':
			b.WriteString(`\\`)
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0x1a:
			b.WriteString(`\Z`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// quoteIdent returns name as a backtick-quoted identifier.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// account is 'name'@'host'.
func account(name, host string) string {
	if host == "" {
		host = "%"
	}
	return quoteString(name) + "@" + quoteString(host)
}

// grantTarget turns "*.*", "db.*" or "db.table" into a quoted target. A
// name containing a dot cannot be written this way; such names are refused.
func grantTarget(on string) (string, error) {
	if on == "*.*" {
		return "*.*", nil
	}
	db, table, ok := strings.Cut(on, ".")
	if !ok || db == "" || table == "" || strings.Contains(table, ".") || db == "*" {
		return "", fmt.Errorf("grant target %q: use *.*, db.* or db.table", on)
	}
	if strings.ContainsRune(on, 0) || len(db) > 64 || len(table) > 64 {
		return "", fmt.Errorf("grant target %q: names are at most 64 characters, no NUL", on)
	}
	if table == "*" {
		return quoteIdent(db) + ".*", nil
	}
	return quoteIdent(db) + "." + quoteIdent(table), nil
}

// userStatements creates or updates an account and applies its grants.
// The statements contain the password; they go over SQL or stdin only.
func userStatements(u User) ([]string, error) {
	if err := ValidateUser(u); err != nil {
		return nil, err
	}
	acct := account(u.Name, u.Host)
	stmts := []string{
		"CREATE USER IF NOT EXISTS " + acct + " IDENTIFIED BY " + quoteString(u.Password),
		"ALTER USER " + acct + " IDENTIFIED BY " + quoteString(u.Password),
	}
	for _, g := range u.Grants {
		target, _ := grantTarget(g.On)
		s := "GRANT " + strings.Join(g.Privileges, ", ") + " ON " + target + " TO " + acct
		if g.WithGrantOption {
			s += " WITH GRANT OPTION"
		}
		stmts = append(stmts, s)
	}
	return stmts, nil
}

// adminStatements give root a password on localhost (keeping unix_socket
// on MariaDB, so the local CLI keeps working) and create root@127.0.0.1,
// the account the library uses through the SSH tunnel. Where the SST
// method logs in, they also create the SST account.
func adminStatements(s ClusterSpec) []string {
	pw := quoteString(s.RootPassword)
	var stmts []string
	if s.Flavour == MariaDB {
		stmts = append(stmts,
			"ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD("+pw+")")
	} else {
		stmts = append(stmts, "ALTER USER 'root'@'localhost' IDENTIFIED BY "+pw)
	}
	stmts = append(stmts,
		"CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY "+pw,
		"ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY "+pw,
		"GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
	)
	return append(stmts, sstAccountStatements(s)...)
}

// sstAccountStatements create or update the SST account with only the
// privileges its method needs (none when the method needs no account).
func sstAccountStatements(s ClusterSpec) []string {
	if !SSTNeedsAccount(s.Flavour, s.Version, s.SST) {
		return nil
	}
	spw := quoteString(s.SSTPassword)
	return []string{
		"CREATE USER IF NOT EXISTS '" + sstUser + "'@'localhost' IDENTIFIED BY " + spw,
		"ALTER USER '" + sstUser + "'@'localhost' IDENTIFIED BY " + spw,
		"GRANT " + sstPrivileges(s.Flavour) + " ON *.* TO '" + sstUser + "'@'localhost'",
	}
}

// sqlScript joins statements for the CLI's stdin.
func sqlScript(stmts []string) string {
	var b strings.Builder
	b.WriteString("SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '');\n")
	for _, s := range stmts {
		b.WriteString(s)
		b.WriteString(";\n")
	}
	return b.String()
}
