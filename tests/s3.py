"""An S3 endpoint on loopback for the tests: moto's server, so s3fs and botocore run unchanged
against it by endpoint URL (`AWS_ENDPOINT_URL_S3`, botocore's own variable)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

S3_BUCKET = "interviews-test"
# moto accepts any key pair; these are its documented placeholders, not secrets
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def running_s3() -> Iterator[str]:
    """Serve S3 on a free loopback port with the bucket `S3_BUCKET`; yield its URL."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        boto3.client(
            "s3",
            endpoint_url=url,
            aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
            region_name=S3_ENV["AWS_DEFAULT_REGION"],
        ).create_bucket(Bucket=S3_BUCKET)
        yield url
    finally:
        server.stop()
