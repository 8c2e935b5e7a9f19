"""Support code of ``benchmarks/kv.py``: the servers, the clients and the timed workloads.

* :mod:`.protos` compiles the etcd API subset in ``benchmarks/protos`` at run time;
* :mod:`.etcd_server` starts and stops a private etcd on loopback;
* :mod:`.skein_server` runs a Skein application on the test cluster to serve the store;
* :mod:`.sessions` is one client connection to either store, behind one interface;
* :mod:`.workload` runs the timed phases (in worker processes for throughput).
"""
