"""Both DynamoDB adapters map failures the same way: retry what a retry can fix, name a deployment bug as one."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from whatsapp_buffer.adapters.dynamodb_errors import translate
from whatsapp_buffer.errors import ConfigurationError, TransientAwsError


def client_error(code, status):
    return ClientError({"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutItem")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("ProvisionedThroughputExceededException", 400), TransientAwsError),
        (client_error("InternalServerError", 500), TransientAwsError),
        (client_error("TransactionCanceledException", 400), TransientAwsError),
        (EndpointConnectionError(endpoint_url="https://dynamodb.invalid"), TransientAwsError),
        (client_error("ResourceNotFoundException", 400), ConfigurationError),
        (client_error("AccessDeniedException", 400), ConfigurationError),
    ],
)
def test_failures_become_the_projects_errors(error, expected):
    translated = translate(error, "store a message")
    assert isinstance(translated, expected)
    assert "store a message" in str(translated)


def test_a_validation_error_stays_what_it_is():
    error = client_error("ValidationException", 400)
    assert translate(error, "store a message") is error
