package cluster

import (
	"bufio"
	"errors"
	"strings"
)

// cloud-init prints a server's host key fingerprints on its console between
// these lines; reading them over the Nova API is the only trust path to a new
// server that does not depend on the network we are about to trust.
const (
	fingerprintsBegin = "-----BEGIN SSH HOST KEY FINGERPRINTS-----"
	fingerprintsEnd   = "-----END SSH HOST KEY FINGERPRINTS-----"
)

// errNoFingerprints means the console does not (yet) show the block.
var errNoFingerprints = errors.New("no SSH host key fingerprints on the console yet")

// consoleFingerprints returns the SHA256 fingerprints ("SHA256:...") printed
// in the console output's last fingerprint block. A server that rebooted
// prints the block again; the last one is the current.
func consoleFingerprints(console string) ([]string, error) {
	var (
		current []string
		last    []string
		inBlock bool
	)
	sc := bufio.NewScanner(strings.NewReader(console))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		// cloud-init prefixes console lines with "ci-info: " or a timestamp in
		// some images; match the markers anywhere in the line.
		switch {
		case strings.Contains(line, fingerprintsBegin):
			inBlock, current = true, nil
		case strings.Contains(line, fingerprintsEnd):
			if inBlock && len(current) > 0 {
				last = current
			}
			inBlock = false
		case inBlock:
			for _, field := range strings.Fields(line) {
				if strings.HasPrefix(field, "SHA256:") {
					current = append(current, field)
				}
			}
		}
	}
	if len(last) == 0 {
		return nil, errNoFingerprints
	}
	return last, nil
}
