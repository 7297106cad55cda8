# Bad inputs fail at plan, with the module's message, before any provider
# call. Runs offline: the provider is mocked.
mock_provider "pxc" {}

variables {
  name    = "orders"
  flavor  = "m1.large"
  image   = "debian-12-mariadb"
  network = "private"
}

run "name_must_be_a_dns_label" {
  command = plan
  variables {
    name = "Orders_DB"
  }
  expect_failures = [var.name]
}

run "name_longer_than_59_characters" {
  command = plan
  variables {
    name = "a${join("", [for i in range(59) : "b"])}"
  }
  expect_failures = [var.name]
}

run "datastore_type_is_mariadb_or_percona" {
  command = plan
  variables {
    datastore_type = "mysql"
  }
  expect_failures = [var.datastore_type]
}

run "datastore_version_is_a_major_version" {
  command = plan
  variables {
    datastore_version = "latest"
  }
  expect_failures = [var.datastore_version]
}

run "two_nodes_have_no_quorum" {
  command = plan
  variables {
    node_count = 2
  }
  expect_failures = [var.node_count]
}

run "even_node_count_is_refused" {
  command = plan
  variables {
    node_count = 4
  }
  expect_failures = [var.node_count]
}

run "volume_size_is_whole_gib" {
  command = plan
  variables {
    volume_size = 0
  }
  expect_failures = [var.volume_size]
}

run "availability_zones_do_not_repeat" {
  command = plan
  variables {
    availability_zones = ["az1", "az1"]
  }
  expect_failures = [var.availability_zones]
}

run "anti_affinity_policy" {
  command = plan
  variables {
    anti_affinity = "affinity"
  }
  expect_failures = [var.anti_affinity]
}

run "host_key_check_mode" {
  command = plan
  variables {
    ssh_host_key_check = "yes"
  }
  expect_failures = [var.ssh_host_key_check]
}

run "ssh_source_cidrs_are_cidrs" {
  command = plan
  variables {
    ssh_source_cidrs = ["10.0.0.1"]
  }
  expect_failures = [var.ssh_source_cidrs]
}

run "root_password_too_short" {
  command = plan
  variables {
    root_password = "short"
  }
  expect_failures = [var.root_password]
}

run "sst_method_known" {
  command = plan
  variables {
    sst_method = "mysqldump"
  }
  expect_failures = [var.sst_method]
}

run "allowed_cidrs_are_cidrs" {
  command = plan
  variables {
    allowed_cidrs = ["10.0.0.0/24", "everyone"]
  }
  expect_failures = [var.allowed_cidrs]
}

run "failure_detection_timeout_range" {
  command = plan
  variables {
    failure_detection_timeout = 90
  }
  expect_failures = [var.failure_detection_timeout]
}

run "port_range" {
  command = plan
  variables {
    port = 70000
  }
  expect_failures = [var.port]
}

# The good values next to the bad ones pass: the validations are not
# simply always false.
run "valid_inputs_plan" {
  command = plan
  variables {
    name                      = "a${join("", [for i in range(57) : "b"])}9"
    datastore_type            = "percona"
    datastore_version         = "8.0"
    node_count                = 5
    availability_zones        = ["az1", "az2", "az3"]
    anti_affinity             = "soft-anti-affinity"
    ssh_host_key_check        = "known_hosts"
    ssh_known_hosts_file      = "/etc/ssh/ssh_known_hosts"
    ssh_source_cidrs          = ["192.0.2.10/32"]
    root_password             = "correct horse battery"
    sst_method                = "xtrabackup-v2"
    allowed_cidrs             = ["10.0.0.0/24"]
    failure_detection_timeout = 60
    port                      = 6033
  }
}
