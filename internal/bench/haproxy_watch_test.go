package bench

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/haproxy"
)

// watchHAProxy polls the stats socket of the local cloud's HAProxy that
// serves vip every 50 ms until ctx ends and returns a function that lists
// each change of a server's state (status and last check) relative to
// killed, named by the node at the member's address. "" when the socket is
// not found (a cloud elsewhere).
func watchHAProxy(ctx context.Context, vip string, nodes []tfNode) func(killed time.Time) string {
	socket, names := haproxySocket(vip, nodes)
	if socket == "" {
		return func(time.Time) string { return "" }
	}
	type change struct {
		at    time.Time
		state string
	}
	var mu sync.Mutex
	var changes []change
	last := map[string]string{}
	go func() {
		for ctx.Err() == nil {
			stats, err := haproxy.Stats(ctx, socket)
			now := time.Now()
			if err == nil {
				for _, s := range stats {
					name, ok := names[s.Server]
					if !ok {
						continue
					}
					key := s.Proxy + "/" + name
					// "UP 1/2 *": the trailing star only says a check runs now.
					state := strings.TrimSuffix(s.Status, " *") + " " + s.CheckStatus
					if last[key] != state {
						last[key] = state
						mu.Lock()
						changes = append(changes, change{now, name + " " + state})
						mu.Unlock()
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return func(killed time.Time) string {
		mu.Lock()
		defer mu.Unlock()
		var parts []string
		for _, c := range changes {
			if c.at.Before(killed.Add(-time.Second)) {
				continue
			}
			parts = append(parts, fmt.Sprintf("%+.2fs %s", c.at.Sub(killed).Seconds(), c.state))
		}
		return strings.Join(parts, "; ")
	}
}

// haproxySocket finds the stats socket next to the haproxy.cfg that binds
// vip:3306 under LOCALCLOUD_DIR, and names its servers by node.
func haproxySocket(vip string, nodes []tfNode) (string, map[string]string) {
	dir := os.Getenv("LOCALCLOUD_DIR")
	if dir == "" {
		return "", nil
	}
	var socket string
	names := map[string]string{}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".cfg") || socket != "" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(b), "bind "+vip+":3306") {
			return nil
		}
		socket = filepath.Join(filepath.Dir(path), "stats.sock")
		for _, m := range regexp.MustCompile(`server (\S+) ([0-9.]+):3306`).FindAllStringSubmatch(string(b), -1) {
			for _, n := range nodes {
				if n.IP == m[2] {
					names[m[1]] = n.Name
				}
			}
		}
		return nil
	})
	return socket, names
}
