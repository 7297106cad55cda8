package guest

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// How the servers read an option name (MariaDB mysys/my_getopt.c,
// handle_options and findopt; the same for an option file line, which the
// server turns into --key=value):
//
//   - '-' and '_' are the same character and case does not matter (checked
//     against mariadbd 10.11: --INNODB-FLUSH-LOG-AT-TRX-COMMIT=0 sets it).
//   - An exact name wins. Otherwise, when prefix matching is on, a name that
//     starts exactly one option is that option ("Using unique option prefix
//     ... is error-prone"), and one that starts several is refused
//     ("ambiguous option") and the server does not start.
//   - Only when nothing matched are the special prefixes skip-, disable-,
//     enable-, maximum-, loose- and (MariaDB) autoset- removed, one at a
//     time, in any order and any number, and the rest looked up again
//     (exact, then as a prefix): skip-loose-sync-bin is sync_binlog. The
//     last prefix removed decides the value (skip-X=0 turns X on);
//     maximum-X sets the session maximum of X, which still touches X.
//
// Prefix matching: MariaDB keeps it on by default in every version
// (--getopt-prefix-matching, "Recognize command-line options by their
// unambiguous prefixes. Defaults to on"). MySQL deprecated it in 5.5.33 and
// 5.6.13 and removed it in 5.7 (MySQL worklog WL#6978 "Deprecate unique
// option prefixes": "removed the feature in 5.7"; 5.6.13 release notes:
// "Option prefixes are no longer supported in MySQL 5.7; only full options
// are accepted", Bug #16996656), so Percona XtraDB Cluster 5.7 and 8.0 take
// exact names only. CheckParameter still refuses prefixes of managed keys
// there: it costs nothing and does not rest on that reading.

// mariadbOptionNames is the option list of mariadbd 10.11 (the server this
// repository tests against), written by tools/gen-option-names.sh. It
// stands for 10.6 and 11.x too: there a few abbreviations resolve
// differently, but CheckParameter refuses every abbreviation and every
// prefix of a managed key whatever the list says.
//
//go:embed options/mariadb-10.11.txt
var mariadbOptionNames string

// specialOptionPrefixes are the prefixes the server strips when a name is
// not an option (my_getopt.c special_opt_prefix; autoset is MariaDB's).
var specialOptionPrefixes = []string{"skip_", "disable_", "enable_", "maximum_", "loose_", "autoset_"}

// WsrepParameter is a wsrep_* setting user parameters may set.
type WsrepParameter struct {
	Name string
	// Why it cannot undo what the library manages.
	Why string
}

// AllowedWsrepParameters are the only wsrep_* keys CheckParameter accepts.
// Every other wsrep setting is either written by the library or can break
// the cluster's consistency or membership (wsrep_certify_nonPK=OFF skips
// certification of key-less tables, wsrep_forced_binlog_format overrides
// binlog_format, wsrep_dirty_reads serves reads from a non-Primary node,
// wsrep_OSU_method=RSU applies DDL on one node only, wsrep_notify_cmd runs a
// command, wsrep_desync/wsrep_reject_queries take a node out of service,
// wsrep_debug writes statement text, passwords included, to the error log).
var AllowedWsrepParameters = []WsrepParameter{
	{"wsrep_slave_threads", "applier threads: parallelism only, commit order is kept"},
	{"wsrep_applier_threads", "the name of wsrep_slave_threads on Percona 8.0 and MariaDB 11"},
	{"wsrep_sync_wait", "causal reads: only makes reads wait for the cluster, never weaker"},
	{"wsrep_retry_autocommit", "retries an autocommit statement after a certification conflict"},
	{"wsrep_max_ws_rows", "limit on rows per write set: too large a transaction is refused"},
	{"wsrep_max_ws_size", "limit on bytes per write set: too large a transaction is refused"},
	{"wsrep_log_conflicts", "logs certification conflicts (table and key, not statements)"},
}

var (
	optionKeyRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,127}$`)

	optionListOnce sync.Once
	optionList     []string        // sorted, lower case, '_' for '-'
	optionSet      map[string]bool // optionList plus names every flavour has
)

func loadOptionList() {
	optionListOnce.Do(func() {
		optionSet = map[string]bool{}
		for _, line := range strings.Split(mariadbOptionNames, "\n") {
			if name := normaliseKey(strings.TrimSpace(line)); name != "" && !optionSet[name] {
				optionSet[name] = true
				optionList = append(optionList, name)
			}
		}
		sort.Strings(optionList)
		// Names the MariaDB list lacks but Percona has; exact names only,
		// so that they are not mistaken for abbreviations.
		for _, m := range ManagedParameters {
			optionSet[normaliseKey(m)] = true
		}
		for _, w := range AllowedWsrepParameters {
			optionSet[w.Name] = true
		}
	})
}

// optionsStartingWith returns the listed options that begin with p.
func optionsStartingWith(p string) []string {
	i := sort.SearchStrings(optionList, p)
	var out []string
	for ; i < len(optionList) && strings.HasPrefix(optionList[i], p); i++ {
		out = append(out, optionList[i])
	}
	return out
}

// prefixMatching reports whether the server resolves abbreviated option
// names (see the comment at the top of this file).
func prefixMatching(flavour Flavour, version string) (bool, error) {
	switch flavour {
	case MariaDB:
		return true, nil
	case Percona:
		if version == "5.7" || version == "8.0" {
			return false, nil
		}
		return false, fmt.Errorf("percona version %q is not supported (supported: 5.7, 8.0)", version)
	default:
		return false, fmt.Errorf("unknown flavour %q (supported: percona, mariadb)", flavour)
	}
}

// optionResolution is what the server makes of one key.
type optionResolution struct {
	// tried are the names the server looks up, in order: the key, then the
	// key without each special prefix it strips.
	tried []string
	// name is the option the key sets: a listed option, or the last name
	// tried when no listed option matched (a plugin's option, or unknown).
	name string
	// abbreviated is set when name was found as the only option starting
	// with the last name tried.
	abbreviated bool
}

func resolveOption(flavour Flavour, version, key string) (optionResolution, error) {
	var r optionResolution
	if !optionKeyRe.MatchString(key) {
		return r, fmt.Errorf("keys are letters, digits, '-' and '_', starting with a letter (at most 128)")
	}
	prefixes, err := prefixMatching(flavour, version)
	if err != nil {
		return r, err
	}
	loadOptionList()
	name := normaliseKey(key)
	for {
		r.tried = append(r.tried, name)
		if optionSet[name] {
			r.name = name
			return r, nil
		}
		if prefixes {
			switch candidates := optionsStartingWith(name); len(candidates) {
			case 0:
			case 1:
				r.name, r.abbreviated = candidates[0], true
				return r, nil
			default:
				return r, fmt.Errorf("ambiguous: %q begins %s; write the full name", name, listNames(candidates, 6))
			}
		}
		stripped := false
		for _, p := range specialOptionPrefixes {
			if rest, ok := strings.CutPrefix(name, p); ok && rest != "" {
				name, stripped = rest, true
				break
			}
		}
		if !stripped {
			r.name = name
			return r, nil
		}
	}
}

func listNames(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}

// CanonicalOption returns the option a [mysqld] key sets on the given
// server, resolved the way the server resolves it: lower case, '-' as '_',
// skip-/disable-/enable-/maximum-/loose-/autoset- removed, and (MariaDB
// only) an unambiguous abbreviation expanded to the full name. A name the
// list does not know comes back normalised: it may be a plugin's option, or
// the server will refuse it. An abbreviation that begins several listed
// options is an error. The server itself matches prefixes within one group
// of options at a time (early options, its own, then each plugin's), so it
// refuses most such names but resolves a few within their group ("m" is
// max_connections among the early options); an ambiguous name in a plugin's
// group disables the plugin, InnoDB included.
func CanonicalOption(flavour Flavour, version, key string) (string, error) {
	r, err := resolveOption(flavour, version, key)
	if err != nil {
		return "", fmt.Errorf("option name %q: %w", key, err)
	}
	return r.name, nil
}

// CheckParameter checks one user [mysqld] parameter before it is written
// after the managed settings (where it would win). It refuses a key that
// sets, or could set, a key the library manages (ManagedParameters) in any
// spelling the server accepts, a wsrep_* key outside
// AllowedWsrepParameters, an abbreviated name, and a value the option file
// parser would not read back byte for byte.
func CheckParameter(flavour Flavour, version, key, value string) error {
	r, err := resolveOption(flavour, version, key)
	if err != nil {
		return fmt.Errorf("parameter %q: %w", key, err)
	}
	for _, name := range append(r.tried, r.name) {
		if managed := managedBy(name); managed != "" {
			return fmt.Errorf("parameter %q is managed by the library and cannot be set (the server may read it as %s)", key, managed)
		}
		if err := checkWsrepName(name); err != nil {
			return fmt.Errorf("parameter %q: %w", key, err)
		}
	}
	if r.abbreviated {
		return fmt.Errorf("parameter %q: write the full option name %q (abbreviations resolve differently as the server's option list changes)", key, r.name)
	}
	if err := checkOptionValue(value); err != nil {
		return fmt.Errorf("parameter %q: %w", key, err)
	}
	return nil
}

// managedBy returns the managed key the server may read name as, or "".
// A name that begins a managed key counts unless it is itself an option
// (the server takes an exact name first): the server matches prefixes per
// option group (see CanonicalOption), so a name ambiguous, or unknown, in
// the whole list may still be read as the managed key. The only listed
// options that begin a managed key are innodb and ssl (the tests pin this);
// each sits in the same group as the managed keys it begins, where its
// exact name wins.
func managedBy(name string) string {
	for _, m := range ManagedParameters {
		m = normaliseKey(m)
		if name == m || strings.HasPrefix(m, name) && !optionSet[name] {
			return m
		}
	}
	return ""
}

// checkWsrepName refuses a wsrep name, or a beginning of one, outside
// AllowedWsrepParameters.
func checkWsrepName(name string) error {
	if strings.HasPrefix(name, "wsrep") || strings.HasPrefix("wsrep_", name) {
		for _, w := range AllowedWsrepParameters {
			if name == strings.ToLower(w.Name) {
				return nil
			}
		}
		allowed := make([]string, len(AllowedWsrepParameters))
		for i, w := range AllowedWsrepParameters {
			allowed[i] = w.Name
		}
		return fmt.Errorf("%s is not one of the wsrep settings parameters may change (%s)", name, strings.Join(allowed, ", "))
	}
	return nil
}

// checkOptionValue refuses what the option file parser (MariaDB
// mysys/my_default.c) changes or cuts: '#' starts a comment anywhere
// outside quotes, quotes around a value are removed and change where '#'
// counts, a backslash starts an escape (\n, \t, \s, \\ ...), and a line
// break or NUL ends the value or starts a new line (a section, an
// !include). ';' starts a comment only at the start of a line, where a
// value never is, but is refused too, with '[' and ']', to keep the rule
// short. Quoting could carry some of these, but refusing is provably right
// and no server setting needs them.
func checkOptionValue(value string) error {
	for _, c := range value {
		switch {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("value must not contain newlines or other control characters (tab, NUL ...)")
		case c == '[' || c == ']':
			return fmt.Errorf("value must not contain section brackets")
		case strings.ContainsRune(`#;'"\`, c):
			return fmt.Errorf("value must not contain %q: the option file parser would read it differently", c)
		}
	}
	return nil
}
