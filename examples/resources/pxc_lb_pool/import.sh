# A pxc_lb_pool is imported by its Octavia load balancer id.
terraform import pxc_lb_pool.orders 6f0e2a4d-9d1c-4e57-8a0b-3c2f1e5d7a90
