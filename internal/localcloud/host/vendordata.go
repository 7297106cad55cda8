package host

// SetVendorData sets the cloud-init vendor-data every systemd host with a
// NoCloud seed gets from now on (written into the seed as "vendor-data"):
// what a cloud tells all its guests, such as its package mirror, as
// OpenStack's metadata service serves vendor_data. The user's user-data
// still overrides it, as cloud-init merges them.
func (n *Network) SetVendorData(cloudConfig string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.vendorData = cloudConfig
}

// VendorData is the vendor-data hosts get ("" for none).
func (n *Network) VendorData() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.vendorData
}
