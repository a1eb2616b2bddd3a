"""High availability: replicas that share apps over PostgreSQL and Kubernetes Leases.

Each replica holds a Lease (its heartbeat, :mod:`.lease`); apps are spread over the
replicas whose Leases are live by rendezvous hashing (:mod:`.assign`); before each sync
the owner proves it still owns the app (:mod:`.replica`: its Lease, then a row lock and
an epoch in the store). Pure logic here; the Lease and store I/O sit behind the ports
of :mod:`.ports`, built by ``compose``. See docs/ha.md.
"""
