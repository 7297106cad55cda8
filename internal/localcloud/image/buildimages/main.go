// Command buildimages builds (or finds cached) the local cloud's guest
// images ahead of the tests that boot them: a CI cache warm-up, or a way to
// see a cold build's time. With no arguments it builds every image.
//
//	go run ./internal/localcloud/image/buildimages [debian-12 ...]
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/pxc-provider/terraform-provider-pxc/internal/localcloud/image"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	recipes := image.Recipes
	if len(os.Args) > 1 {
		recipes = nil
		for _, name := range os.Args[1:] {
			r, ok := image.Lookup(name)
			if !ok {
				log.Fatalf("buildimages: no image named %q", name)
			}
			recipes = append(recipes, r)
		}
	}
	for _, r := range recipes {
		img, err := image.Ensure(ctx, r, log.Printf)
		if err != nil {
			log.Fatalf("buildimages: %v", err)
		}
		if !img.Built {
			fmt.Printf("%s: cached at %s (cold build took %v)\n", r.Name, img.Root, img.BuildTime)
		} else {
			fmt.Printf("%s: built at %s in %v\n", r.Name, img.Root, img.BuildTime)
		}
	}
}
