"""Drives Debian's python3-consul2 (0.1.5) against Meridian's Consul-compatible HTTP API.

Run by tests/Meridian.Integration.Tests/ConsulClientTests.cs with /usr/bin/python3; fails (non-zero exit, traceback)
on the first wrong answer. Environment: MERIDIAN_HTTP (dc1 host:port), MERIDIAN_HTTP_DC2, RUN_ID (unique names).
"""
import os
import time
import consul

host, port = os.environ["MERIDIAN_HTTP"].split(":")
dc2_host, dc2_port = os.environ["MERIDIAN_HTTP_DC2"].split(":")
run = os.environ["RUN_ID"]
c = consul.Consul(host=host, port=int(port))
c2 = consul.Consul(host=dc2_host, port=int(dc2_port))
web, db, api = "web-" + run, "db-" + run, "api-" + run


def step(name):
    print("ok", name, flush=True)


# agent self: tools read Config.Datacenter
assert c.agent.self()["Config"]["Datacenter"] == "dc1"
assert c2.agent.self()["Config"]["Datacenter"] == "dc2"
step("agent.self")

# CA roots (both calls) and the trust domain of the SPIFFE IDs below
roots = c.connect.certificates.list()
assert roots["ActiveRootID"] and roots["Roots"] and roots["Roots"][0]["RootCert"].startswith("-----BEGIN CERTIFICATE-----")
agent_roots = c.agent.connect.root_certificates()
assert agent_roots["ActiveRootID"] == roots["ActiveRootID"]
td = roots["TrustDomain"]
step("ca roots")

# intentions: legacy create (POST), get by ID, list, check, match, put by ID, delete by ID
created = c.connect.intentions.create(web, db, source_type="consul", action="deny")
ixn_id = created["ID"]
got = c.connect.intentions.get(ixn_id)
assert got["SourceName"] == web and got["DestinationName"] == db and got["Action"] == "deny", got
assert any(i["ID"] == ixn_id for i in c.connect.intentions.list())
assert c.connect.intentions.check(web, db) == {"Allowed": False}
match = c.connect.intentions.list_match("destination", db)
assert [i["SourceName"] for i in match[db]] == [web], match
assert c.connect.intentions.list_match("destination", "nothing-" + run) == {"nothing-" + run: []}
step("intentions create/get/list/check/match")

# authorize follows the intention (POST, as python-consul2 sends it)
uri = "spiffe://%s/ns/default/dc/dc1/svc/%s" % (td, web)
denied = c.agent.connect.authorize(db, uri, "01")
assert denied["Authorized"] is False and "Matched L4 intention" in denied["Reason"], denied
assert c.connect.intentions.put(ixn_id, source_name=web, destination_name=db, source_type="consul", action="allow") is True
assert c.connect.intentions.get(ixn_id)["Action"] == "allow"
allowed = c.agent.connect.authorize(db, uri, "01")
assert allowed["Authorized"] is True, allowed
assert c.connect.intentions.check(web, db) == {"Allowed": True}
step("authorize and intention update")

assert c.connect.intentions.delete(ixn_id) is True
# quirk: a 404 returns the (index, None) tuple with CB.json
assert c.connect.intentions.get(ixn_id) == (None, None)
try:
    c.connect.intentions.delete(ixn_id)
    raise AssertionError("deleting a deleted intention succeeded")
except consul.ConsulException as e:
    assert "Cannot delete non-existent intention" in str(e), e
step("intention delete")

# leaf: python-consul2's own call has no /v1 prefix (a bug); Consul answers 404 and the client (None, None)
assert c.agent.connect.leaf_certificates(web) == (None, None)
leaf = c.http.get(consul.base.CB.json(), "/v1/agent/connect/ca/leaf/" + web)
assert leaf["Service"] == web and leaf["CertPEM"].startswith("-----BEGIN CERTIFICATE-----") and "PRIVATE KEY" in leaf["PrivateKeyPEM"]
assert leaf["ServiceURI"].endswith("/svc/" + web), leaf["ServiceURI"]
# blocking on the leaf's index with a short wait: the same certificate once the wait ends
start = time.time()
again = c.http.get(consul.base.CB.json(), "/v1/agent/connect/ca/leaf/" + web, params=[("index", leaf["ModifyIndex"]), ("wait", "1s")])
assert again["SerialNumber"] == leaf["SerialNumber"] and time.time() - start >= 0.9
step("leaf")

# catalog: register a node, a service and a check; read it back every way; deregister
node = "node-" + run
assert c.catalog.register(node, "10.1.2.3", service={"Service": api, "ID": api + "-1", "Port": 8080, "Tags": ["v1", "blue"]},
                          check={"Node": node, "CheckID": "chk-" + run, "Name": "alive", "Status": "passing", "ServiceID": api + "-1"}) is True
index, services = c.catalog.services()
assert sorted(services[api]) == ["blue", "v1"] and int(index) >= 1
index, instances = c.catalog.service(api)
assert [(i["Node"], i["ServiceID"], i["ServicePort"], i["Address"]) for i in instances] == [(node, api + "-1", 8080, "10.1.2.3")]
assert c.catalog.service(api, tag="v1")[1] and not c.catalog.service(api, tag="green")[1]
index, nodes = c.catalog.nodes()
assert any(n["Node"] == node for n in nodes)
index, this = c.catalog.node(node)
assert this["Node"]["Address"] == "10.1.2.3" and api + "-1" in this["Services"]
assert "dc1" in c.catalog.datacenters() and "dc2" in c.catalog.datacenters()
step("catalog")

# health: passing, checks, state; blocking on the catalog's index answers at the end of the wait
index, healthy = c.health.service(api, passing=True)
assert len(healthy) == 1 and healthy[0]["Checks"][0]["Status"] == "passing" and healthy[0]["Service"]["Tags"] == ["v1", "blue"]
index, checks = c.health.checks(api)
assert [ch["CheckID"] for ch in checks] == ["chk-" + run]
state_index, passing = c.health.state("passing")
assert any(ch["CheckID"] == "chk-" + run for ch in passing)
start = time.time()
again_index, again = c.health.service(api, index=index, wait="1s")
assert again_index == index and len(again) == 1 and time.time() - start >= 0.9, (again_index, index)
step("health")

# ?dc=dc2: answered by dc2 (empty there), through dc1's address
assert c.catalog.service(api, dc="dc2")[1] == []
try:
    c.catalog.service(api, dc="nowhere")
    raise AssertionError("an unknown datacenter answered")
except consul.ConsulException as e:
    assert "No path to datacenter" in str(e), e
step("dc routing")

# agent services and TTL checks
assert c.agent.service.register("svc-" + run, service_id="svc-" + run + "-1", port=9090, tags=["a"], check=consul.Check.ttl("30s")) is True
index, entries = c.health.service("svc-" + run)
assert entries[0]["Checks"][0]["Status"] == "critical"
assert c.agent.check.ttl_pass("service:svc-" + run + "-1", "fine") is True
index, entries = c.health.service("svc-" + run, passing=True)
assert len(entries) == 1 and entries[0]["Checks"][0]["Output"] == "fine"
assert c.agent.check.ttl_warn("service:svc-" + run + "-1") is True
assert c.health.service("svc-" + run, passing=True)[1] == []
assert c.agent.service.deregister("svc-" + run + "-1") is True
assert c.health.service("svc-" + run)[1] == []
step("agent service and checks")

# prepared queries: python-consul2 always creates a template (name_prefix_match): execute by name
q = c.query.create(api, name="q-" + run)
assert c.query.get(q["ID"])[0]["Service"]["Service"] == api
assert any(x["ID"] == q["ID"] for x in c.query.list())
result = c.query.execute("q-" + run)
assert result["Service"] == api and [n["Service"]["ID"] for n in result["Nodes"]] == [api + "-1"] and result["Datacenter"] == "dc1"
assert c.query.explain("q-" + run)["Query"]["Name"] == "q-" + run
assert c.query.update(q["ID"], api, name="q-" + run, onlypassing=True) is True
assert c.query.delete(q["ID"]) is True
assert c.query.get(q["ID"]) == (None, None)
step("prepared queries")

assert c.catalog.deregister(node) is True
assert c.catalog.service(api)[1] == []
step("catalog deregister")

leader = c.status.leader()
assert leader and c.status.peers() == [leader]
dcs = c.coordinate.datacenters()
assert sorted(d["Datacenter"] for d in dcs) == ["dc1", "dc2"] and all(d["AreaID"] == "WAN" for d in dcs)
step("status and coordinates")
print("ALL OK", flush=True)
