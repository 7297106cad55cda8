variable "name" {
  type        = string
  description = "Cluster name, a DNS label of at most 59 characters. Nodes are named `<name>-<n>`."

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,57}[a-z0-9])?$", var.name))
    error_message = "The name must be a DNS label: lower-case letters, digits and '-', starting with a letter, at most 59 characters."
  }
}

variable "datastore_type" {
  type        = string
  default     = "mariadb"
  description = "`mariadb` (MariaDB Galera) or `percona` (Percona XtraDB Cluster)."

  validation {
    condition     = contains(["mariadb", "percona"], var.datastore_type)
    error_message = "The datastore_type must be \"mariadb\" or \"percona\"."
  }
}

variable "datastore_version" {
  type        = string
  default     = "10.11"
  description = "Major version: `10.6`, `10.11` or `11.x` for mariadb; `5.7` or `8.0` for percona."

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+$", var.datastore_version))
    error_message = "The datastore_version must be a major version such as \"10.11\" or \"8.0\"."
  }
}

variable "node_count" {
  type        = number
  default     = 3
  description = "Number of nodes. An odd number of at least 3, so a network split always leaves a majority."

  validation {
    condition     = var.node_count >= 3 && var.node_count % 2 == 1 && floor(var.node_count) == var.node_count
    error_message = "The node_count must be an odd whole number of at least 3 (an even count can split into two halves, neither with quorum)."
  }
}

variable "flavor" {
  type        = string
  description = "Nova flavor of the servers, id or name."
}

variable "image" {
  type        = string
  description = "Image of the servers, id or name. It must run cloud-init and have the datastore's packages, or set `install_packages`."
}

variable "network" {
  type        = string
  description = "Neutron network of the nodes, id or name. The load balancer's address is on the same subnet unless `vip_subnet_id` says otherwise."
}

variable "volume_size" {
  type        = number
  default     = 20
  description = "Size of each node's Cinder data volume, GiB."

  validation {
    condition     = var.volume_size >= 1 && floor(var.volume_size) == var.volume_size
    error_message = "The volume_size must be a whole number of GiB, at least 1."
  }
}

variable "volume_type" {
  type        = string
  default     = null
  description = "Cinder volume type; the cloud's default when null."
}

variable "availability_zones" {
  type        = list(string)
  default     = []
  description = "Availability zones; nodes are spread over them round-robin. Empty: the cloud chooses."

  validation {
    condition     = length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "The availability_zones must not repeat a zone."
  }
}

variable "anti_affinity" {
  type        = string
  default     = "anti-affinity"
  description = "Server group policy: `anti-affinity` (no two nodes on one hypervisor), `soft-anti-affinity` or `none`."

  validation {
    condition     = contains(["anti-affinity", "soft-anti-affinity", "none"], var.anti_affinity)
    error_message = "The anti_affinity must be \"anti-affinity\", \"soft-anti-affinity\" or \"none\"."
  }
}

variable "key_pair" {
  type        = string
  default     = null
  description = "An existing Nova keypair; `ssh_private_key` must then hold its private key. Null: the cluster generates one (output `generated_private_key`)."
}

variable "ssh_user" {
  type        = string
  default     = null
  description = "Login user of the image (default `root`); it needs root or password-less sudo."
}

variable "ssh_private_key" {
  type        = string
  default     = null
  sensitive   = true
  description = "Private key (PEM) of `key_pair`."
}

variable "ssh_host_key_check" {
  type        = string
  default     = "console"
  description = "`console`: trust only the host key fingerprints cloud-init prints on the Nova console; `known_hosts`: `ssh_known_hosts_file`; `insecure`: no check."

  validation {
    condition     = contains(["console", "known_hosts", "insecure"], var.ssh_host_key_check)
    error_message = "The ssh_host_key_check must be \"console\", \"known_hosts\" or \"insecure\"."
  }
}

variable "ssh_known_hosts_file" {
  type        = string
  default     = null
  description = "known_hosts file for `ssh_host_key_check = \"known_hosts\"`."
}

variable "ssh_source_cidrs" {
  type        = list(string)
  default     = []
  description = "Who may reach port 22 of the nodes. Empty: the address this machine uses to reach the cluster network, as a /32."

  validation {
    condition     = alltrue([for c in var.ssh_source_cidrs : can(cidrnetmask(c))])
    error_message = "Every ssh_source_cidrs entry must be an IPv4 CIDR such as \"192.0.2.0/24\"."
  }
}

variable "root_password" {
  type        = string
  default     = null
  sensitive   = true
  description = "Password of the database `root` account; generated when null (output `root_password`)."

  validation {
    condition     = var.root_password == null ? true : length(var.root_password) >= 8 && length(var.root_password) <= 128
    error_message = "The root_password must be 8 to 128 characters long."
  }
}

variable "sst_method" {
  type        = string
  default     = null
  description = "State snapshot transfer: `rsync`, `mariabackup` (mariadb) or `xtrabackup-v2` (percona). Null: the datastore's hot-backup method."

  validation {
    condition     = var.sst_method == null ? true : contains(["rsync", "mariabackup", "xtrabackup-v2"], var.sst_method)
    error_message = "The sst_method must be \"rsync\", \"mariabackup\" or \"xtrabackup-v2\"."
  }
}

variable "parameters" {
  type        = map(string)
  default     = {}
  description = "Extra `[mysqld]` settings, e.g. `{ innodb_buffer_pool_size = \"4G\" }`. Settings the provider manages (wsrep_*, binlog_format...) are refused at plan."
}

variable "allowed_cidrs" {
  type        = list(string)
  default     = []
  description = "Networks whose clients may reach MySQL on the nodes directly (3306), besides the members and the load balancer. Can change in place."

  validation {
    condition     = alltrue([for c in var.allowed_cidrs : can(cidrnetmask(c))])
    error_message = "Every allowed_cidrs entry must be an IPv4 CIDR such as \"10.0.0.0/24\"."
  }
}

variable "failure_detection_timeout" {
  type        = number
  default     = 3
  description = "Seconds before a silent node is dropped from the cluster; commits stall that long when a node dies."

  validation {
    condition     = var.failure_detection_timeout >= 1 && var.failure_detection_timeout <= 60
    error_message = "The failure_detection_timeout must be between 1 and 60 seconds."
  }
}

variable "install_packages" {
  type        = bool
  default     = false
  description = "Install the datastore's packages on the servers (Debian/Ubuntu images) when the image lacks them."
}

variable "port" {
  type        = number
  default     = 3306
  description = "TCP port applications connect to on the load balancer."

  validation {
    condition     = var.port >= 1 && var.port <= 65535 && floor(var.port) == var.port
    error_message = "The port must be a TCP port, 1 to 65535."
  }
}

variable "vip_subnet_id" {
  type        = string
  default     = null
  description = "Subnet of the load balancer's address; null: the subnet of the nodes."
}

variable "floating_ip_network" {
  type        = string
  default     = null
  description = "External network (id or name) for a floating IP on the load balancer's address, for applications outside the cluster's network. Null or empty: none."
}
