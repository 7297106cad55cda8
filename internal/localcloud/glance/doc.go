// Package glance is the local cloud's image service (Glance v2): a fixed
// catalog of images (catalog.go), each a Glance record over a recipe of
// package image whose root filesystem the servers booting it run, listed
// and shown.
package glance
