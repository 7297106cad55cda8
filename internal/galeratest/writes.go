// Package galeratest measures a Galera cluster from the outside, the way an
// application sees it: numbered writes through one address, the longest
// gap without an acknowledged write during a failover, and whether every
// acknowledged write survived. Tests and `make bench` use it.
package galeratest

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Open connects as user to addr ("ip:port") with short timeouts, so a dead
// node costs a client at most a couple of seconds per attempt. It speaks
// TLS whenever the server offers it (a cluster in TLS required mode
// refuses plain logins) without checking the certificate: it measures
// writes, not trust; OpenTLS verifies.
func Open(addr, user, password string) (*sql.DB, error) {
	return open(addr, user, password, func(cfg *mysql.Config) {
		cfg.TLSConfig = "preferred"
		// The driver falls back to plain by clearing TLS in the config
		// its connections share: one server without TLS (a node not yet
		// rolled while TLS is turned on) would leave every later
		// connection plain, refused once the servers require TLS. With
		// a BeforeConnect hook each connection works on its own copy.
		_ = cfg.Apply(mysql.BeforeConnect(func(context.Context, *mysql.Config) error { return nil }))
	})
}

// OpenTLS is Open over TLS verified with tlsConfig (RootCAs, ServerName).
func OpenTLS(addr, user, password string, tlsConfig *tls.Config) (*sql.DB, error) {
	return open(addr, user, password, func(cfg *mysql.Config) { cfg.TLS = tlsConfig })
}

func open(addr, user, password string, secure func(*mysql.Config)) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = user, password, "tcp", addr
	secure(cfg)
	cfg.Timeout = time.Second
	cfg.ReadTimeout = 3 * time.Second
	cfg.WriteTimeout = 3 * time.Second
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql config for %s: %w", addr, err)
	}
	db := sql.OpenDB(connector)
	// A new connection for every statement: what a load balancer routes is
	// the connection, so pooled ones would hide a failover.
	db.SetMaxIdleConns(0)
	return db, nil
}

// Write is one acknowledged insert.
type Write struct {
	Seq  int
	Node string // wsrep_node_name that acknowledged it
	At   time.Time
}

// Log is the record of a write loop.
type Log struct {
	mu      sync.Mutex
	Started time.Time
	Acked   []Write
	Failed  []time.Time
	Errors  []error // Errors[i] is why the attempt at Failed[i] failed
	LastErr error
}

// NodesSeen counts acknowledged writes per node.
func (l *Log) NodesSeen() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[string]int{}
	for _, w := range l.Acked {
		seen[w.Node]++
	}
	return seen
}

// LongestGap is the longest time without an acknowledged write between
// the first and last acknowledgement at or after since.
func (l *Log) LongestGap(since time.Time) (gap time.Duration, from time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	prev := since
	for _, w := range l.Acked {
		if w.At.Before(since) {
			continue
		}
		if d := w.At.Sub(prev); d > gap {
			gap, from = d, prev
		}
		prev = w.At
	}
	return gap, from
}

// FirstAfter returns the first write acknowledged after t.
func (l *Log) FirstAfter(t time.Time) (Write, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.Acked {
		if w.At.After(t) {
			return w, true
		}
	}
	return Write{}, false
}

// LastUpTo returns the last write acknowledged at or before t.
func (l *Log) LastUpTo(t time.Time) (Write, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.Acked) - 1; i >= 0; i-- {
		if !l.Acked[i].At.After(t) {
			return l.Acked[i], true
		}
	}
	return Write{}, false
}

// Prepare creates the table the write loop fills.
func Prepare(ctx context.Context, db *sql.DB, table string) error {
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS " + strings.Split(table, ".")[0],
		"CREATE TABLE IF NOT EXISTS " + table + " (seq INT PRIMARY KEY, node VARCHAR(64), at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("prepare %s: %s: %w", table, q, err)
		}
	}
	return nil
}

// RunWrites inserts numbered rows into table through db every interval
// until ctx ends, each on a fresh connection, recording which node
// acknowledged each. It returns when ctx is done.
func RunWrites(ctx context.Context, db *sql.DB, table string, interval time.Duration) *Log {
	l := &Log{Started: time.Now()}
	seq := 0
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for ctx.Err() == nil {
		seq++
		node, err := insert(ctx, db, table, seq)
		now := time.Now()
		l.mu.Lock()
		if err == nil {
			l.Acked = append(l.Acked, Write{Seq: seq, Node: node, At: now})
		} else if ctx.Err() == nil {
			l.Failed = append(l.Failed, now)
			l.Errors = append(l.Errors, err)
			l.LastErr = err
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	return l
}

func insert(ctx context.Context, db *sql.DB, table string, seq int) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var node string
	if err := conn.QueryRowContext(ctx, "SELECT @@wsrep_node_name").Scan(&node); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO "+table+" (seq, node) VALUES (?, ?)", seq, node); err != nil {
		return "", err
	}
	return node, nil
}

// MissingAcked returns the acknowledged sequence numbers that db (a
// surviving node) does not have: each one is a lost committed write.
func MissingAcked(ctx context.Context, db *sql.DB, table string, acked []Write) ([]int, error) {
	// wsrep_sync_wait is per session: the SELECT must run on the very
	// connection that set it, not on whichever one the pool hands out.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION wsrep_sync_wait = 1"); err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, "SELECT seq FROM "+table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[int]bool{}
	for rows.Next() {
		var s int
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		have[s] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var missing []int
	for _, w := range acked {
		if !have[w.Seq] {
			missing = append(missing, w.Seq)
		}
	}
	sort.Ints(missing)
	return missing, nil
}

// NodeOf asks which node answers a new connection through db.
func NodeOf(ctx context.Context, db *sql.DB) (string, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var node string
	err = conn.QueryRowContext(ctx, "SELECT @@wsrep_node_name").Scan(&node)
	return node, err
}
