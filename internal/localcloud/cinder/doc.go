// Package cinder is the local cloud's block-storage service (Cinder v3,
// microversions 3.0-3.59): volumes are sparse files on loop devices,
// created, listed, updated, extended online and deleted with Cinder's status
// lifecycle. Attaching them to servers is Nova's API (package localcloud).
package cinder
