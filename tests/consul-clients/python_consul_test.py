"""Drives Debian's python3-consul (0.7.1, unpacked onto its own PYTHONPATH) against Meridian's Consul HTTP API.

Run by tests/Meridian.Integration.Tests/ConsulClientTests.cs; fails (non-zero exit, traceback) on the first wrong
answer. Environment: MERIDIAN_HTTP (dc1 host:port), RUN_ID (unique names).
"""
import os
import consul

assert consul.__version__ == "0.7.1", consul.__file__
host, port = os.environ["MERIDIAN_HTTP"].split(":")
run = os.environ["RUN_ID"]
c = consul.Consul(host=host, port=int(port))


def step(name):
    print("ok", name, flush=True)


assert c.agent.self()["Config"]["Datacenter"] == "dc1"
leader = c.status.leader()
assert leader and c.status.peers() == [leader]
assert "dc1" in c.catalog.datacenters()
assert any(d["Datacenter"] == "dc1" for d in c.coordinate.datacenters())
step("agent, status, datacenters")

node, svc = "node-" + run, "svc-" + run
assert c.catalog.register(node, "10.3.3.3", service={"Service": svc, "ID": svc + "-1", "Port": 81, "Tags": ["t"]},
                          check={"Node": node, "CheckID": "chk-" + run, "Name": "alive", "Status": "warning", "ServiceID": svc + "-1"}) is True
index, services = c.catalog.services()
assert services[svc] == ["t"]
index, instances = c.catalog.service(svc)
assert [(i["Node"], i["ServicePort"]) for i in instances] == [(node, 81)]
index, entries = c.health.service(svc)
assert [ch["Status"] for ch in entries[0]["Checks"]] == ["warning"]
# ?passing drops a warning instance (Consul's rule)
assert c.health.service(svc, passing=True)[1] == []
index, warning = c.health.state("warning")
assert any(ch["CheckID"] == "chk-" + run for ch in warning)
step("catalog and health")

assert c.agent.service.register("agent-" + run, service_id="agent-" + run, port=82, check=consul.Check.ttl("30s")) is True
assert "agent-" + run in c.agent.services()
assert c.agent.check.ttl_pass("service:agent-" + run) is True
assert len(c.health.service("agent-" + run, passing=True)[1]) == 1
assert c.agent.service.deregister("agent-" + run) is True
step("agent service")

q = c.query.create(svc, name="q-" + run)
assert c.query.get(q["ID"])[0]["Name"] == "q-" + run
result = c.query.execute("q-" + run)
# Prepared queries keep warning instances (only critical ones are dropped)
assert [n["Service"]["ID"] for n in result["Nodes"]] == [svc + "-1"]
assert c.query.explain("q-" + run)["Query"]["Service"]["Service"] == svc
assert c.query.delete(q["ID"]) is True
step("prepared queries")

assert c.catalog.deregister(node) is True
assert c.catalog.service(svc)[1] == []
step("catalog deregister")
print("ALL OK", flush=True)
