"""Drives Debian's python3-consul2 (0.1.5) against Meridian's Consul HTTP API with ACLs on (default deny).

Run by tests/Meridian.Integration.Tests/ConsulClientTests.cs; fails (non-zero exit, traceback) on the first wrong
answer. Environment: MERIDIAN_HTTP (host:port), MERIDIAN_TOKEN (a management token), RUN_ID (unique names).
"""
import os
import requests
import consul

host, port = os.environ["MERIDIAN_HTTP"].split(":")
base = "http://%s:%s" % (host, port)
run = os.environ["RUN_ID"]
mgmt = os.environ["MERIDIAN_TOKEN"]
os.environ.pop("CONSUL_HTTP_TOKEN", None)  # it would override token= (python-consul2 reads it first)
c = consul.Consul(host=host, port=int(port), token=mgmt)
anon = consul.Consul(host=host, port=int(port))
web, db = "web-" + run, "db-" + run


def step(name):
    print("ok", name, flush=True)


def denied(call, text="Permission denied"):
    try:
        call()
    except consul.ACLPermissionDenied as e:
        assert text in str(e), e
        return
    raise AssertionError("not refused")


# bootstrap happened once already (meridian dev): Consul's 403 with the reset index
denied(lambda: anon.acl.bootstrap(), "ACL bootstrap no longer allowed")
step("bootstrap refused")

# policies
policy = c.acl.policy.create("web-writer-" + run, description="web", rules='service "%s" {\n  policy = "write"\n  intentions = "write"\n}' % web)
assert policy["Name"] == "web-writer-" + run and policy["ID"], policy
assert c.acl.policy.get(policy["ID"])["Rules"].startswith("service")
assert c.acl.policy.get(name="web-writer-" + run)["ID"] == policy["ID"]
assert any(p["ID"] == policy["ID"] for p in c.acl.policy.list())
updated = c.acl.policy.update(policy["ID"], "web-writer-" + run, description="web, updated", rules=policy["Rules"])
assert updated["Description"] == "web, updated"
step("policies")

# tokens
token = c.acl.tokens.create({"Description": "web " + run, "Policies": [{"Name": "web-writer-" + run}]})
accessor, secret = token["AccessorID"], token["SecretID"]
assert accessor and secret and token["Policies"][0]["ID"] == policy["ID"], token
assert c.acl.tokens.get(accessor)["Description"] == "web " + run
assert any(t["AccessorID"] == accessor for t in c.acl.tokens.list())
assert any(t["AccessorID"] == accessor for t in c.acl.tokens.list(policy=policy["ID"]))
me = c.acl.tokens.self(token=secret)
assert me["AccessorID"] == accessor and me["SecretID"] == secret
assert c.acl.tokens.update({"Description": "web token " + run, "Policies": [{"ID": policy["ID"]}]}, accessor)["Description"] == "web token " + run
clone = c.acl.tokens.clone(description="clone " + run, accessor_id=accessor)
assert clone["AccessorID"] != accessor and clone["Description"] == "clone " + run
assert c.acl.tokens.delete(clone["AccessorID"]) is True
assert c.acl.tokens.get(clone["AccessorID"]) == (None, None)  # Consul's 404 "Requested token does not exist"
step("tokens")

# roles
role = c.acl.roles.create({"Name": "role-" + run, "Policies": [{"ID": policy["ID"]}]})
assert c.acl.roles.get(role["ID"])["Name"] == "role-" + run
assert c.acl.roles.get_by_name("role-" + run)["ID"] == role["ID"]
assert any(r["ID"] == role["ID"] for r in c.acl.roles.list())
assert c.acl.roles.delete(role["ID"]) is True
step("roles")

# every endpoint checks the caller's token: the web token may not write an intention to db; nothing is written
limited = consul.Consul(host=host, port=int(port), token=secret)
denied(lambda: limited.connect.intentions.create(web, db, source_type="consul", action="allow"), "lacks permission")
assert not any(i["DestinationName"] == db for i in c.connect.intentions.list())
# ... but to web it may (its rule grants intentions = "write")
created = limited.connect.intentions.create(db, web, source_type="consul", action="allow")
assert c.connect.intentions.get(created["ID"])["SourceName"] == db
# authorize needs service:write on the target
assert limited.agent.connect.authorize(web, "spiffe://x.consul/ns/default/dc/dc1/svc/" + db, "01")["Authorized"] is True
denied(lambda: limited.agent.connect.authorize(db, "spiffe://x.consul/ns/default/dc/dc1/svc/" + web, "01"))
# the anonymous token (default deny) may register nothing
denied(lambda: anon.catalog.register("node-" + run, "10.0.0.9"))
assert not any(n["Node"] == "node-" + run for n in c.catalog.nodes()[1])
# an unknown secret: Consul's 403 ACL not found
bogus = consul.Consul(host=host, port=int(port), token="00000000-0000-0000-0000-000000000000")
denied(lambda: bogus.catalog.services(), "ACL not found")
step("enforcement")

# the token in ?token= and Authorization: Bearer work as X-Consul-Token does (Consul's order: ?token= first)
assert requests.get(base + "/v1/acl/token/self", params={"token": secret}).json()["AccessorID"] == accessor
assert requests.get(base + "/v1/acl/token/self", headers={"Authorization": "Bearer " + secret}).json()["AccessorID"] == accessor
r = requests.get(base + "/v1/acl/token/self", params={"token": secret}, headers={"X-Consul-Token": mgmt})
assert r.json()["AccessorID"] == accessor, r.text
step("token sources")

assert c.acl.replication()["Enabled"] is False
assert c.connect.intentions.delete(created["ID"]) is True
assert c.acl.tokens.delete(accessor) is True
assert c.acl.policy.delete(policy["ID"]) is True
assert c.acl.policy.get(policy["ID"]) == (None, None)
step("cleanup")
print("ALL OK", flush=True)
