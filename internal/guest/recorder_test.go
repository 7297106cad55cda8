package guest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"sync"
)

// recorder is a Runner that records every command and upload and answers
// from scripted rules, so command sequences can be checked without SSH.
type recorder struct {
	mu      sync.Mutex
	log     []string
	uploads map[string]string
	rules   []rule
}

// rule answers commands containing match; n > 0 limits how often it fires.
type rule struct {
	match string
	out   string
	code  int // non-zero: fail with this exit code
	n     int
}

func (r *recorder) on(match, out string) *recorder {
	r.rules = append(r.rules, rule{match: match, out: out})
	return r
}

func (r *recorder) Run(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, cmd)
	for i := range r.rules {
		ru := &r.rules[i]
		if !strings.Contains(cmd, ru.match) || ru.n < 0 {
			continue
		}
		if ru.n > 0 {
			ru.n--
			if ru.n == 0 {
				ru.n = -1
			}
		}
		if ru.code != 0 {
			return nil, &CommandError{Command: cmd, ExitCode: ru.code, Stderr: "scripted failure"}
		}
		return []byte(ru.out), nil
	}
	return nil, nil
}

func (r *recorder) Upload(ctx context.Context, path string, content []byte, mode fs.FileMode) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.uploads == nil {
		r.uploads = map[string]string{}
	}
	r.uploads[path] = string(content)
	r.log = append(r.log, fmt.Sprintf("UPLOAD %s %04o", path, mode.Perm()))
	return nil
}

func (r *recorder) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return nil, errors.New("recorder: no network")
}

func (r *recorder) commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}
