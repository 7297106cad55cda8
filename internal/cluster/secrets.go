package cluster

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

// derivedSecret derives a per-purpose secret from the root password, so
// accounts the cluster needs internally (clustercheck) survive in no state
// of their own and never equal the root password.
func derivedSecret(root, purpose string) string {
	mac := hmac.New(sha256.New, []byte(root))
	mac.Write([]byte("pxc/" + purpose))
	return hex.EncodeToString(mac.Sum(nil))[:32]
}

// GeneratePassword returns a random password of n characters from an
// alphabet that needs no quoting anywhere.
func GeneratePassword(n int) (string, error) {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var sb strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		sb.WriteByte(alphabet[i.Int64()])
	}
	return sb.String(), nil
}
