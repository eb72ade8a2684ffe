"""The whatsapp-buffer policy pack: `pulumi preview --policy-pack policy` refuses a stack that breaks an invariant."""

from invariants import (
    async_paths_dead_lettered,
    bucket_private_tls_only_with_expiry,
    function_log_retention,
    iam_without_wildcards,
    in_topic_publishable_only_by_end_user_messaging,
    out_topic_publishable_only_by_the_connect_instance,
    outreach_invocable_by_connect_only,
    topic_encrypted_with_kms,
)
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

POLICIES = [
    ResourceValidationPolicy(
        name="topics-encrypted-with-kms",
        description="The bridge's SNS topics are encrypted with a customer managed KMS key.",
        validate=topic_encrypted_with_kms,
    ),
    StackValidationPolicy(
        name="in-topic-publishable-only-by-end-user-messaging",
        description="Only End User Messaging Social of this account may publish to the in-topic.",
        validate=in_topic_publishable_only_by_end_user_messaging,
    ),
    StackValidationPolicy(
        name="out-topic-publishable-only-by-the-connect-instance",
        description="Only the configured Connect instance of this account may publish to the out-topic.",
        validate=out_topic_publishable_only_by_the_connect_instance,
    ),
    StackValidationPolicy(
        name="media-bucket-private-tls-only-with-expiry",
        description="The media bucket blocks public access, refuses plain HTTP and expires what it holds.",
        validate=bucket_private_tls_only_with_expiry,
    ),
    ResourceValidationPolicy(
        name="iam-without-wildcards",
        description="No IAM statement grants a wildcard action, or every resource to an action that has a type.",
        validate=iam_without_wildcards,
    ),
    StackValidationPolicy(
        name="async-paths-dead-lettered",
        description="Every asynchronous path keeps what it gives up on (dead-letter queue or on-failure destination).",
        validate=async_paths_dead_lettered,
    ),
    StackValidationPolicy(
        name="function-log-retention",
        description="Every function logs to a declared log group with a retention.",
        validate=function_log_retention,
    ),
    StackValidationPolicy(
        name="outreach-invocable-by-connect-only",
        description="The outreach function is invocable by the configured Connect instance only.",
        validate=outreach_invocable_by_connect_only,
    ),
]

if __name__ == "__main__":
    PolicyPack(name="whatsapp-buffer-invariants", policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
