package haproxy

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Command sends one command to an HAProxy stats socket and returns the
// answer (the socket closes after one command in non-interactive mode).
func Command(ctx context.Context, socket, command string) ([]byte, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, fmt.Errorf("haproxy %q: %w", command, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	if _, err := io.WriteString(conn, command+"\n"); err != nil {
		return nil, fmt.Errorf("haproxy %q: %w", command, err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return nil, fmt.Errorf("haproxy %q: %w", command, err)
	}
	return out, nil
}

// Info returns `show info` as name -> value (Pid, Uptime_sec, CurrConns, ...).
func Info(ctx context.Context, socket string) (map[string]string, error) {
	out, err := Command(ctx, socket, "show info")
	if err != nil {
		return nil, err
	}
	info := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			info[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if info["Pid"] == "" {
		return nil, fmt.Errorf("haproxy show info: no Pid in %q", truncate(out))
	}
	return info, nil
}

// Stat is one row of `show stat`: a frontend, a backend or a server.
type Stat struct {
	Proxy       string // pxname: listener id, or "<pool id>:<listener id>"
	Server      string // svname: FRONTEND, BACKEND or the member id
	Status      string // OPEN, FULL, STOP; UP, DOWN, "UP 1/3", "DOWN 1/2", MAINT, DRAIN, NOLB, "no check"
	CheckStatus string // L4OK, L4CON, L7STS, ...
	CurrentConn int    // scur
	TotalConn   int    // stot
	BytesIn     int64
	BytesOut    int64
	RequestErrs int // ereq
}

// Stats returns `show stat`.
func Stats(ctx context.Context, socket string) ([]Stat, error) {
	out, err := Command(ctx, socket, "show stat")
	if err != nil {
		return nil, err
	}
	return ParseStats(out)
}

// ParseStats parses the CSV that `show stat` prints.
func ParseStats(out []byte) ([]Stat, error) {
	out = bytes.TrimPrefix(bytes.TrimSpace(out), []byte("# "))
	r := csv.NewReader(bytes.NewReader(out))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parse haproxy show stat: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("parse haproxy show stat: empty answer")
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, need := range []string{"pxname", "svname", "status"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("parse haproxy show stat: no %s column in %q", need, truncate(out))
		}
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return row[i]
		}
		return ""
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	atoi64 := func(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
	stats := make([]Stat, 0, len(rows)-1)
	for _, row := range rows[1:] {
		if len(row) < 2 {
			continue
		}
		stats = append(stats, Stat{
			Proxy:       get(row, "pxname"),
			Server:      get(row, "svname"),
			Status:      get(row, "status"),
			CheckStatus: get(row, "check_status"),
			CurrentConn: atoi(get(row, "scur")),
			TotalConn:   atoi(get(row, "stot")),
			BytesIn:     atoi64(get(row, "bin")),
			BytesOut:    atoi64(get(row, "bout")),
			RequestErrs: atoi(get(row, "ereq")),
		})
	}
	return stats, nil
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
