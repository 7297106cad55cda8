# A pxc_node is imported by its Nova server id; root_password and
# ssh_private_key come from the configuration.
terraform import pxc_node.witness 2b7c9e41-5d3a-4f68-9c0e-8a1d6f4b3e27
