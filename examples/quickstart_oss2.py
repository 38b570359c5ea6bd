"""The whole custom-domain flow with Alibaba's oss2 SDK against a local ossutil-server.

Start the server first (./scripts/serve), then: python examples/quickstart_oss2.py
"""

import json
import os

import oss2

data_dir = os.environ.get("OSSUTIL_DATA_DIR", "ossutil-data")
zone_file = os.environ.get("OSSUTIL_ZONE_FILE", "dns.zone")
endpoint = os.environ.get("OSSUTIL_ENDPOINT", "http://127.0.0.1:9000")
keys = json.load(open(os.path.join(data_dir, "root-credentials.json")))

auth = oss2.AuthV4(keys["access_key_id"], keys["access_key_secret"])
bucket = oss2.Bucket(auth, endpoint, "quickstart-bucket", region="cn-hangzhou")
bucket.create_bucket()

domain = "www.example.com"
token = bucket.create_bucket_cname_token(domain).token      # 1. ask for a token
with open(zone_file, "a") as zone:                           # 2. publish it as TXT
    zone.write(f'_dnsauth.{domain}. 60 IN TXT "{token}"\n')
bucket.put_bucket_cname(oss2.models.PutBucketCnameRequest(domain))   # 3. bind
for cname in bucket.list_bucket_cname().cname:               # 4. list
    print(cname.domain, cname.status)
bucket.delete_bucket_cname(domain)                           # 5. unbind
