package guest

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// optionServers are the flavour/version pairs every name rule must hold on.
var optionServers = []struct {
	flavour Flavour
	version string
}{
	{MariaDB, "10.6"}, {MariaDB, "10.11"}, {MariaDB, "11.4"}, {Percona, "5.7"}, {Percona, "8.0"},
}

// spellings returns the ways a user may write name that the server reads
// the same: as given, with dashes, upper case and mixed.
func spellings(name string) []string {
	dashed := strings.ReplaceAll(name, "_", "-")
	mixed := []byte(dashed)
	for i := range mixed {
		if i%2 == 0 {
			mixed[i] = bytes.ToUpper(mixed[i : i+1])[0]
		}
	}
	return []string{name, dashed, strings.ToUpper(name), string(mixed)}
}

func TestCheckParameterRefusesTheAbbreviatedDurabilityAttack(t *testing.T) {
	for _, s := range optionServers {
		err := CheckParameter(s.flavour, s.version, "innodb_flush_log_at_trx_comm", "0")
		if err == nil || !strings.Contains(err.Error(), "innodb_flush_log_at_trx_commit") {
			t.Errorf("%s %s: innodb_flush_log_at_trx_comm=0: got %v, want a refusal naming innodb_flush_log_at_trx_commit", s.flavour, s.version, err)
		}
	}
	got, err := CanonicalOption(MariaDB, "10.11", "innodb_flush_log_at_trx_comm")
	if err != nil || got != "innodb_flush_log_at_trx_commit" {
		t.Errorf("CanonicalOption(mariadb, innodb_flush_log_at_trx_comm) = %q, %v; want innodb_flush_log_at_trx_commit", got, err)
	}
}

// Every prefix of every managed key is refused, in every spelling, on every
// server, except the two prefixes that are options of their own (the server
// takes an exact name before trying prefixes).
func TestCheckParameterRefusesEveryPrefixOfEveryManagedKey(t *testing.T) {
	ownOptions := map[string]bool{"innodb": true, "ssl": true}
	passed := map[string]bool{}
	for _, s := range optionServers {
		for _, m := range ManagedParameters {
			for n := 1; n <= len(m); n++ {
				prefix := m[:n]
				for _, key := range spellings(prefix) {
					err := CheckParameter(s.flavour, s.version, key, "0")
					if err == nil {
						passed[prefix] = true
						if !ownOptions[prefix] {
							t.Errorf("%s %s: %q (a prefix of %s) was accepted", s.flavour, s.version, key, m)
						}
					} else if ownOptions[prefix] {
						t.Errorf("%s %s: %q is an option of its own and must pass: %v", s.flavour, s.version, key, err)
					}
				}
			}
		}
	}
	if len(passed) != len(ownOptions) {
		t.Errorf("prefixes accepted: %v, want exactly %v", passed, ownOptions)
	}
}

func TestCheckParameterRefusesEveryModifiedManagedKey(t *testing.T) {
	modifiers := []string{
		"skip_", "disable_", "enable_", "maximum_", "loose_", "autoset_",
		"loose_skip_", "skip_loose_", "loose_maximum_", "enable_loose_disable_", "loose_loose_",
	}
	for _, s := range optionServers {
		for _, m := range ManagedParameters {
			for _, mod := range modifiers {
				for _, key := range spellings(mod + m) {
					if err := CheckParameter(s.flavour, s.version, key, "0"); err == nil {
						t.Errorf("%s %s: %q was accepted", s.flavour, s.version, key)
					}
				}
				// Abbreviated after the modifier too (on MariaDB the server
				// expands it; elsewhere it is refused all the same).
				key := mod + m[:len(m)-1]
				if err := CheckParameter(s.flavour, s.version, key, "0"); err == nil {
					t.Errorf("%s %s: %q was accepted", s.flavour, s.version, key)
				}
			}
		}
	}
}

func TestCheckParameterAcceptsOrdinarySettings(t *testing.T) {
	settings := map[string]string{
		"innodb_buffer_pool_size":   "1G",
		"innodb-log-file-size":      "512M",
		"max_connections":           "500",
		"Max-Connections":           "500",
		"sql_mode":                  "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION",
		"character_set_server":      "utf8mb4",
		"long_query_time":           "0.5",
		"slow_query_log":            "ON",
		"innodb_io_capacity":        "2000",
		"secure_file_priv":          "/var/lib/mysql-files",
		"init_connect":              "SET NAMES utf8mb4",
		"performance_schema":        "ON",
		"ssl":                       "ON",
		"innodb":                    "FORCE",
		"loose_server_audit_events": "CONNECT", // a plugin's option: not in the list
		"skip_performance_schema":   "",
		"wsrep_sync_wait":           "1",
		"wsrep-slave-threads":       "4",
		"wsrep_applier_threads":     "4",
		"wsrep_retry_autocommit":    "3",
		"wsrep_max_ws_rows":         "0",
		"wsrep_max_ws_size":         "2147483647",
		"wsrep_log_conflicts":       "ON",
		"skip_wsrep_log_conflicts":  "",
		"tmp_table_size":            "",
	}
	for _, s := range optionServers {
		for k, v := range settings {
			if err := CheckParameter(s.flavour, s.version, k, v); err != nil {
				t.Errorf("%s %s: %s=%q: %v", s.flavour, s.version, k, v, err)
			}
		}
	}
}

func TestCheckParameterRefusesWsrepOutsideTheAllowList(t *testing.T) {
	refused := []string{
		"wsrep_certify_nonPK", "wsrep_forced_binlog_format", "wsrep_dirty_reads",
		"wsrep_OSU_method", "wsrep_notify_cmd", "wsrep_debug", "wsrep_desync",
		"loose_wsrep_desync", "wsrep", "wsrep_", "wsr", "wsrep_sync_wai",
		"wsrep_gtid_mode", "wsrep_sst_donor", "wsrep_auto_increment_control",
		"wsrep_unknown_future_setting",
	}
	for _, s := range optionServers {
		for _, k := range refused {
			if err := CheckParameter(s.flavour, s.version, k, "1"); err == nil {
				t.Errorf("%s %s: %s was accepted", s.flavour, s.version, k)
			}
		}
	}
	// Every wsrep option the server knows and the allow-list does not name.
	loadOptionList()
	allowed := map[string]bool{}
	for _, w := range AllowedWsrepParameters {
		if !strings.HasPrefix(w.Name, "wsrep_") || w.Name != strings.ToLower(w.Name) || w.Why == "" {
			t.Errorf("allow-list entry %+v: want a lower-case wsrep_ name and a reason", w)
		}
		allowed[w.Name] = true
	}
	for _, name := range optionList {
		if strings.HasPrefix(name, "wsrep") && !allowed[name] {
			if err := CheckParameter(MariaDB, "10.11", name, "1"); err == nil {
				t.Errorf("%s was accepted", name)
			}
		}
	}
}

func TestCheckParameterRefusesAbbreviationsAndAmbiguity(t *testing.T) {
	for key, want := range map[string]string{
		"innodb_log_buffer_siz": "full option name \"innodb_log_buffer_size\"",
		"innodb_doublewri":      "full option name \"innodb_doublewrite\"",
		"character_set_serv":    "full option name \"character_set_server\"",
		"s":                     "ambiguous",
		"skip_n":                "skip_name_resolve, skip_networking",
		"max_conn":              "max_connect_errors, max_connections",
		"innodb_flush_log":      "innodb_flush_log_at_timeout, innodb_flush_log_at_trx_commit",
	} {
		err := CheckParameter(MariaDB, "10.11", key, "1")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", key, err, want)
		}
	}
	if _, err := CanonicalOption(MariaDB, "10.11", "skip_n"); err == nil || !strings.Contains(err.Error(), "skip_name_resolve") {
		t.Errorf("CanonicalOption(skip_n): got %v, want an ambiguity naming the candidates", err)
	}
}

func TestCanonicalOption(t *testing.T) {
	for _, c := range []struct {
		flavour   Flavour
		version   string
		key, want string
	}{
		{MariaDB, "10.11", "Innodb-Buffer-Pool-Size", "innodb_buffer_pool_size"},
		{MariaDB, "10.11", "loose-skip-sync-bin", "sync_binlog"},
		{MariaDB, "10.11", "skip-loose-sync-binlog", "sync_binlog"},
		{MariaDB, "10.11", "maximum-max-connections", "max_connections"},
		{MariaDB, "10.11", "enable_skip_name_res", "skip_name_resolve"},
		{MariaDB, "10.11", "skip_skip_name_resolve", "skip_name_resolve"},
		{MariaDB, "10.11", "skip_name_resolve", "skip_name_resolve"},
		{MariaDB, "10.11", "wsrep_sync_wai", "wsrep_sync_wait"},
		{MariaDB, "10.11", "loose_server_audit_logging", "server_audit_logging"},
		{MariaDB, "10.11", "autoset_innodb_log_buffer_size", "innodb_log_buffer_size"},
		// No prefix matching on MySQL 5.7 and later: the name stays.
		{Percona, "5.7", "innodb_flush_log_at_trx_comm", "innodb_flush_log_at_trx_comm"},
		{Percona, "8.0", "Loose-Skip-Name-Resolve", "skip_name_resolve"},
		{Percona, "8.0", "pxc-strict-mode", "pxc_strict_mode"},
		{Percona, "8.0", "disable_pxc_encrypt_cluster_traffic", "pxc_encrypt_cluster_traffic"},
	} {
		got, err := CanonicalOption(c.flavour, c.version, c.key)
		if err != nil || got != c.want {
			t.Errorf("CanonicalOption(%s %s, %q) = %q, %v; want %q", c.flavour, c.version, c.key, got, err, c.want)
		}
	}
}

func TestCheckParameterRefusesBadKeysAndServers(t *testing.T) {
	for _, key := range []string{"", "1abc", "my_cache.key_buffer_size", "a=b", "a b", "a#b", "-x", strings.Repeat("a", 129)} {
		if err := CheckParameter(MariaDB, "10.11", key, "1"); err == nil {
			t.Errorf("key %q was accepted", key)
		}
	}
	for _, s := range []struct {
		flavour Flavour
		version string
	}{{Percona, "5.6"}, {Percona, ""}, {"mysql", "8.0"}, {"", ""}} {
		if err := CheckParameter(s.flavour, s.version, "max_connections", "1"); err == nil {
			t.Errorf("%q %q was accepted", s.flavour, s.version)
		}
	}
}

func TestCheckParameterRefusesValuesTheParserWouldChange(t *testing.T) {
	for _, v := range []string{
		"1 # comment", "#", "a;b", "'quoted'", `"quoted"`, `C:\path`, `a\nb`,
		"line\nbreak", "cr\r", "nul\x00", "tab\there", "[client]", "x]", "del\x7f",
	} {
		if err := CheckParameter(MariaDB, "10.11", "init_connect", v); err == nil {
			t.Errorf("value %q was accepted", v)
		}
	}
	for _, v := range []string{"", "1G", "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION", "/var/lib/mysql-files", "SET NAMES utf8mb4", "a=b", "ünïcode"} {
		if err := CheckParameter(MariaDB, "10.11", "init_connect", v); err != nil {
			t.Errorf("value %q: %v", v, err)
		}
	}
}

func TestOptionListIsSortedAndHasTheManagedKeys(t *testing.T) {
	loadOptionList()
	if !sort.StringsAreSorted(optionList) || len(optionList) < 500 {
		t.Fatalf("option list: %d names, sorted %v; regenerate with tools/gen-option-names.sh", len(optionList), sort.StringsAreSorted(optionList))
	}
	listed := map[string]bool{}
	for _, n := range optionList {
		listed[n] = true
	}
	for _, m := range ManagedParameters {
		if !listed[m] && !strings.HasPrefix(m, "pxc_") {
			t.Errorf("managed key %s is not in the MariaDB option list", m)
		}
	}
}

// TestOptionResolutionAgreesWithMariaDB feeds option files to the installed
// mariadbd and reads back which variable each key set, proving that the
// server resolves names as CanonicalOption does and that '#' cuts a value.
func TestOptionResolutionAgreesWithMariaDB(t *testing.T) {
	server := mariadbdOrSkip(t)
	cases := []struct {
		key, value        string
		variable, setting string
	}{
		{"innodb_flush_log_at_trx_comm", "0", "innodb_flush_log_at_trx_commit", "0"},
		{"sync_bin", "7", "sync_binlog", "7"},
		// The last special prefix decides the value: skip with 0 is 1 (my_getopt's
		// double negation), loose keeps the value.
		{"loose-skip-sync-bin", "0", "sync_binlog", "1"},
		{"skip-loose-sync-binlog", "5", "sync_binlog", "5"},
		{"Max-Connections", "321", "max_connections", "321"},
		{"enable_skip_name_res", "", "skip_name_resolve", "TRUE"},
		{"loose-skip-innodb-flush-log-at-trx-commit", "", "innodb_flush_log_at_trx_commit", "0"},
		{"innodb_buffer_pool_filename", "ib#x", "innodb_buffer_pool_filename", "ib"},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			if c.variable != normaliseKey(c.key) {
				got, err := CanonicalOption(MariaDB, "10.11", c.key)
				if err != nil || got != c.variable {
					t.Fatalf("CanonicalOption(%q) = %q, %v; the server sets %s", c.key, got, err, c.variable)
				}
				if err := CheckParameter(MariaDB, "10.11", c.key, c.value); err == nil {
					t.Errorf("CheckParameter(%q) accepted a key the server reads as %s", c.key, c.variable)
				}
			}
			line := c.key
			if c.value != "" {
				line += " = " + c.value
			}
			vars, out := serverVariables(t, server, line)
			if vars == nil {
				t.Fatalf("mariadbd did not print its variables:\n%s", out)
			}
			if got := vars[c.variable]; got != c.setting {
				t.Errorf("%q set %s to %q, want %q", line, c.variable, got, c.setting)
			}
		})
	}
	t.Run("ambiguous", func(t *testing.T) {
		if _, err := CanonicalOption(MariaDB, "10.11", "skip_n"); err == nil {
			t.Error("CanonicalOption accepted skip_n")
		}
		vars, out := serverVariables(t, server, "skip_n = 1")
		if vars != nil || !strings.Contains(out, "ambiguous option") {
			t.Errorf("the server accepted skip_n (its output:\n%s)", out)
		}
	})
}

// mariadbdOrSkip returns the installed mariadbd; it skips without one,
// except in CI, where the check must run.
func mariadbdOrSkip(t *testing.T) string {
	t.Helper()
	server, err := exec.LookPath("mariadbd")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: mariadbd must be installed to check option name resolution against the server")
		}
		t.Skip("mariadbd is not installed")
	}
	return server
}

// serverVariables runs mariadbd --verbose --help on an option file with one
// [mysqld] line and returns its variable table ('_' for '-'), or nil when
// the server refused the file, with everything it printed.
func serverVariables(t *testing.T, server, line string) (map[string]string, string) {
	t.Helper()
	dir := t.TempDir()
	cnf := filepath.Join(dir, "my.cnf")
	if err := os.WriteFile(cnf, []byte("[mysqld]\n"+line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--defaults-file=" + cnf, "--verbose", "--help"}
	if os.Geteuid() == 0 {
		args = append(args[:1], append([]string{"--user=root"}, args[1:]...)...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, server, args...).CombinedOutput()
	var vars map[string]string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	inTable := false
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case !inTable && len(fields) == 2 && strings.Trim(fields[0], "-") == "" && strings.Trim(fields[1], "-") == "":
			inTable, vars = true, map[string]string{}
		case inTable && len(fields) >= 1:
			vars[strings.ReplaceAll(fields[0], "-", "_")] = strings.Join(fields[1:], " ")
		}
	}
	return vars, string(out)
}

// TestAbbreviationsAgreeWithMariaDB writes every prefix of every managed key
// and of a sample of other options into one option file (as loose-, so that
// values do not matter) and checks, from the server's "Using unique option
// prefix" notes and "unknown variable" warnings, that mariadbd expands
// exactly the names resolveOption expands, to the same options. Prefixes
// resolveOption calls ambiguous are run one by one (the server stops at the
// first) for a sample.
func TestAbbreviationsAgreeWithMariaDB(t *testing.T) {
	server := mariadbdOrSkip(t)
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("runs mariadbd some 50 times")
	}
	loadOptionList()
	names := append([]string{}, ManagedParameters...)
	for i := 0; i < len(optionList); i += 17 {
		names = append(names, optionList[i])
	}
	// Options that make --help do something else, and their prefixes.
	stop := map[string]bool{"help": true, "version": true, "verbose": true, "print_defaults": true, "wsrep_recover": true, "bootstrap": true}
	abbreviated, unknown := map[string]string{}, map[string]bool{}
	var ambiguous []string
	seen := map[string]bool{}
	for _, name := range names {
		for n := 1; n < len(name); n++ {
			key := name[:n]
			if seen[key] {
				continue
			}
			seen[key] = true
			r, err := resolveOption(MariaDB, "10.11", key)
			switch {
			case err != nil:
				ambiguous = append(ambiguous, key)
			case stop[r.name]:
			case r.abbreviated:
				abbreviated[key] = r.name
			case !optionSet[r.name]:
				unknown[key] = true
			}
		}
	}
	// A value the option rejects stops the server with an error right after
	// that key's note: record the notes, drop that key and run again.
	pending := map[string]bool{}
	for key := range abbreviated {
		pending[key] = true
	}
	for key := range unknown {
		pending[key] = true
	}
	expanded := map[string]string{}
	var out string
	for run := 0; ; run++ {
		var file strings.Builder
		for key := range pending {
			file.WriteString("loose-" + key + " = 1\n")
		}
		var vars map[string]string
		vars, out = serverVariables(t, server, file.String())
		last, failed := "", false
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "[ERROR]") {
				failed = true
			}
			const note = "Using unique option prefix '"
			if i := strings.Index(line, note); i >= 0 {
				prefix, rest, _ := strings.Cut(line[i+len(note):], "'")
				_, after, _ := strings.Cut(rest, "full name '")
				full, _, _ := strings.Cut(after, "'")
				expanded[normaliseKey(prefix)] = normaliseKey(full)
				if !failed {
					last = normaliseKey(prefix) // the key the first error is about
				}
			}
		}
		if vars != nil {
			break
		}
		if !pending[last] || run > 100 {
			t.Fatalf("mariadbd refused names resolveOption accepts:\n%s", lastLines(out, 10))
		}
		delete(pending, last)
	}
	silent := 0
	for key, want := range abbreviated {
		got, noted := expanded[key]
		switch {
		case noted && got != want:
			t.Errorf("%q: resolveOption expands it to %s, mariadbd to %s", key, want, got)
		case !noted && strings.Contains(out, "unknown variable 'loose-"+key+"=1'"):
			t.Errorf("%q: resolveOption expands it to %s, mariadbd does not know it", key, want)
		case !noted:
			// Options parsed before logging starts (performance_schema_*)
			// are expanded without a note.
			silent++
		}
	}
	for key := range unknown {
		if got, ok := expanded[key]; ok {
			t.Errorf("%q: unknown to resolveOption, mariadbd expands it to %s (regenerate the list?)", key, got)
		} else if !strings.Contains(out, "unknown variable 'loose-"+key+"=1'") {
			t.Errorf("%q: unknown to resolveOption, but mariadbd did not call it unknown", key)
		}
	}
	t.Logf("%d abbreviations (%d expanded without a note) and %d unknown names agree; checking %d ambiguous ones",
		len(abbreviated), silent, len(unknown), len(ambiguous))
	// The server matches prefixes within one group of options at a time
	// (early options, its own, then each plugin's), so a name ambiguous in
	// the whole list may be unique in a group: "m" is max_connections among
	// the early options, "innodb_sys_" is the one option of an
	// INFORMATION_SCHEMA plugin. What must hold: the server refuses it, or
	// picks one of the options resolveOption named. An ambiguous name among
	// a plugin's options (innodb_au) disables the plugin, InnoDB included.
	ambiguousRefused, pickedInGroup := 0, 0
	for i := 0; i < len(ambiguous); i += 1 + len(ambiguous)/40 {
		key := ambiguous[i]
		candidates := optionsStartingWith(key)
		_, out := serverVariables(t, server, key+" = 1")
		const note = "Using unique option prefix '" // then key, then the full name
		switch {
		case strings.Contains(out, "ambiguous option"):
			ambiguousRefused++
		case strings.Contains(out, note+key+"'"):
			_, after, _ := strings.Cut(out, note+key+"'")
			_, after, _ = strings.Cut(after, "full name '")
			full, _, _ := strings.Cut(after, "'")
			if !slices.Contains(candidates, normaliseKey(full)) {
				t.Errorf("%q: mariadbd picked %s, not one of %v", key, full, candidates)
			}
			pickedInGroup++
		case strings.Contains(out, "unknown variable"):
			t.Errorf("%q: mariadbd does not know it, resolveOption found %v", key, candidates)
		default:
			pickedInGroup++ // an early option, expanded without a note
		}
		if CheckParameter(MariaDB, "10.11", key, "1") == nil {
			t.Errorf("%q: CheckParameter accepted an ambiguous name", key)
		}
	}
	t.Logf("ambiguous sample: %d refused by the server, %d unique within one option group", ambiguousRefused, pickedInGroup)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
