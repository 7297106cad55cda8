package guest

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SettingsChange is what ApplySettings changes on running servers without
// a restart: the spec the Cluster was opened with already holds the new
// values; these name what differs from the servers' current settings.
type SettingsChange struct {
	// Parameters set (new or changed) and reset (removed from the spec,
	// back to the compiled default).
	Set   []string
	Reset []string
	// ProviderOptions: the spec's wsrep_provider_options changed
	// (evs.suspect_timeout).
	ProviderOptions bool
	// SSTMethod: the spec's SST method changed.
	SSTMethod bool
}

func (ch SettingsChange) empty() bool {
	return len(ch.Set) == 0 && len(ch.Reset) == 0 && !ch.ProviderOptions && !ch.SSTMethod
}

// StaticVariables returns which of the named server variables cannot be
// changed on a running server, as the server itself reports it (MariaDB's
// information_schema.SYSTEM_VARIABLES.READ_ONLY). A name the server does
// not list as a variable (an option such as log-bin, or a plugin's) is
// static too: only a restart reads it. Percona's server does not say, so
// every name is static there.
func (c *Cluster) StaticVariables(ctx context.Context, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	if c.spec.Flavour != MariaDB {
		return append([]string(nil), names...), nil
	}
	dynamic := map[string]bool{}
	err := c.onHealthy(ctx, func(ctx context.Context, n *node) error {
		db, err := n.sqlDB(ctx)
		if err != nil {
			return err
		}
		args := make([]any, len(names))
		marks := make([]string, len(names))
		for i, name := range names {
			args[i] = strings.ToUpper(normaliseKey(name))
			marks[i] = "?"
		}
		rows, err := db.QueryContext(ctx, "SELECT VARIABLE_NAME FROM information_schema.SYSTEM_VARIABLES WHERE READ_ONLY = 'NO' AND VARIABLE_NAME IN ("+strings.Join(marks, ",")+")", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return err
			}
			dynamic[strings.ToLower(v)] = true
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("ask which variables are read-only: %w", err)
	}
	var static []string
	for _, name := range names {
		if !dynamic[normaliseKey(name)] {
			static = append(static, name)
		}
	}
	return static, nil
}

// ApplySettings writes every node's option file from the spec (so the
// next start reads the new settings) and sets the changed ones on its
// running server with SET GLOBAL, one node at a time: nothing restarts.
// A node whose server does not run only gets the file. Callers check with
// StaticVariables first: a static variable makes SET GLOBAL fail.
func (c *Cluster) ApplySettings(ctx context.Context, ch SettingsChange) error {
	stmts, err := settingStatements(c.spec, ch)
	if err != nil {
		return err
	}
	nodes := c.nodes()
	members := c.Spec().Nodes
	for i, n := range nodes {
		start := time.Now()
		if err := c.writeConfig(ctx, n, members); err != nil {
			return &NodeError{Phase: PhaseSettings, Node: n.Name, Err: err}
		}
		online := "option file written; server not running"
		ps, err := c.processes(ctx, n)
		if err != nil {
			return &NodeError{Phase: PhaseSettings, Node: n.Name, Err: err}
		}
		if ps.Running && len(stmts) > 0 {
			if _, err := n.run(ctx, c.layout.Client+" --batch", []byte(sqlScript(stmts))); err != nil {
				return &NodeError{Phase: PhaseSettings, Node: n.Name, Err: c.mask.err(fmt.Errorf("set global: %w", err))}
			}
			online = "applied online"
		}
		c.emitDone("settings", n.Name, start, "%s; %d of %d done", online, i+1, len(nodes))
	}
	return nil
}

// settingStatements are the SET GLOBAL statements of a change.
func settingStatements(s ClusterSpec, ch SettingsChange) ([]string, error) {
	if ch.empty() {
		return nil, nil
	}
	var stmts []string
	set := append([]string(nil), ch.Set...)
	sort.Strings(set)
	for _, k := range set {
		v, ok := s.Parameters[k]
		if !ok {
			return nil, fmt.Errorf("settings: parameter %q is not in the spec", k)
		}
		name, err := variableName(k)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, "SET GLOBAL "+name+" = "+variableValue(v))
	}
	reset := append([]string(nil), ch.Reset...)
	sort.Strings(reset)
	for _, k := range reset {
		name, err := variableName(k)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, "SET GLOBAL "+name+" = DEFAULT")
	}
	if ch.ProviderOptions {
		stmts = append(stmts, "SET GLOBAL wsrep_provider_options = "+quoteString(providerOptions(s)))
	}
	if ch.SSTMethod {
		stmts = append(stmts, "SET GLOBAL wsrep_sst_method = "+quoteString(string(s.SST)))
		if SSTNeedsAccount(s.Flavour, s.Version, s.SST) {
			stmts = append(stmts, sstAccountStatements(s)...)
			stmts = append(stmts, "SET GLOBAL wsrep_sst_auth = "+quoteString(sstUser+":"+s.SSTPassword))
		}
	}
	return stmts, nil
}

var (
	variableNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	numberRe       = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	sizeValueRe    = regexp.MustCompile(`^([0-9]{1,15})([KkMmGgTt])$`)
)

// variableName is a parameter key as a server variable (dashes are
// underscores there).
func variableName(key string) (string, error) {
	name := normaliseKey(strings.TrimSpace(key))
	if !variableNameRe.MatchString(name) {
		return "", fmt.Errorf("settings: %q is not a server variable name", key)
	}
	return name, nil
}

// variableValue writes an option-file value as SET GLOBAL takes it: a
// number bare, a size with its K/M/G/T suffix multiplied out (the option
// file accepts the suffix, SET does not), anything else a string (ON, OFF
// and enum names are accepted as strings).
func variableValue(v string) string {
	v = strings.TrimSpace(v)
	if numberRe.MatchString(v) {
		return v
	}
	if m := sizeValueRe.FindStringSubmatch(v); m != nil {
		n, err := strconv.ParseUint(m[1], 10, 64)
		if err == nil {
			shift := map[string]uint{"k": 10, "m": 20, "g": 30, "t": 40}[strings.ToLower(m[2])]
			if n <= (^uint64(0))>>shift {
				return strconv.FormatUint(n<<shift, 10)
			}
		}
	}
	return quoteString(v)
}
