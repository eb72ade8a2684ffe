"""Amazon Connect (service `connect`): the chat contact operations the bridge calls, and what an agent does.

Enforced as botocore's model and AWS's guides state them: `ChatDurationInMinutes` bounds and expiry, `ClientToken`
idempotency, `ConnectionTypes` (`CONNECTION_TYPES_ANSWERED`), `SupportedMessagingContentTypes` and the
`InitialMessage`'s content type and size (`SUPPORTED_CONTENT_TYPES`, `CONTENT_BYTES_LIMIT`), the `Attributes` limits
(also for UpdateContactAttributes), persistent chat's conditions (never with `RelatedContactId`, only an ended chat,
only once, its transcript in the instance's bucket `TRANSCRIPT_DELAY_SECONDS` after the chat ends), StopContact on a
chat in any state, and the operations `make doctor` reads (`InstanceSetup`). Each rule, its quoted source and the
error code the fake answers: docs/sandbox.md#amazon-connect; each is pinned by a test in `tests/contract/`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.fakes.chat import TYPING, Attachment, Chats, Contact, Participant
from sandbox.fakes.records import Ids, copy
from sandbox.fakes.rest_json import ApiError

DEFAULT_CHAT_MINUTES = 1500
"""botocore StartChatContact.ChatDurationInMinutes: "If not specified, the chat session duration defaults to 25
hour" (25 x 60 minutes)."""
CHAT_MINUTES = (60, 10080)
ATTRIBUTES_BYTES_LIMIT = 32768
"""botocore StartChatContact.Attributes: "up to 32,768 UTF-8 bytes across all key-value pairs per contact"."""
ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_-]{1,32767}")
"""botocore: "Attribute keys can include only alphanumeric, dash, and underscore characters"."""
TRANSCRIPT_DELAY_SECONDS = 60.0
"""How long after a chat ends its transcript is in the instance's bucket, so rehydrating from it works (admin guide,
chat persistence: "Users should wait 30-60 seconds before attempting to rehydrate"; the fake takes the upper bound)."""
REHYDRATION_TYPES = ("ENTIRE_PAST_SESSION", "FROM_SEGMENT")
"""botocore PersistentChat.RehydrationType's enum."""
INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive"
MESSAGE_CONTENT_TYPES = frozenset({"text/plain", "text/markdown", "application/json", f"{INTERACTIVE}.response"})
"""botocore ChatMessage.ContentType (StartChatContact.InitialMessage): "Supported types are text/plain, text/markdown,
application/json, and application/vnd.amazonaws.connect.message.interactive.response"; SendMessage.ContentType:
"Possible types are" the same four."""
SUPPORTED_CONTENT_TYPES = MESSAGE_CONTENT_TYPES | {INTERACTIVE}
"""botocore StartChatContact.SupportedMessagingContentTypes: "Supported types are text/plain, text/markdown,
application/json, application/vnd.amazonaws.connect.message.interactive, and
application/vnd.amazonaws.connect.message.interactive.response. Content types must always contain text/plain"."""
DEFAULT_CONTENT_TYPES = frozenset({"text/plain"})
"""A contact started without SupportedMessagingContentTypes: text/plain, the one type every list must hold (the admin
guide, "Enable text formatting": for a custom chat interface, "add the SupportedMessagingContentTypes parameter")."""
CONNECTION_TYPES_ANSWERED = ("CONNECTION_CREDENTIALS", "WEBSOCKET")
"""botocore StartChatContact.ConnectionTypes: "WEBSOCKET and CONNECTION_CREDENTIALS are the values this operation acts
on. No other value returns connection information."; "If you omit this parameter, the response has no connection
information"."""
CONTENT_BYTES_LIMIT = 16384
"""botocore ChatMessage.Content (StartChatContact.InitialMessage): "Maximum of 16,384 bytes for all content types";
Connect's feature specifications, chat message size limits, "Chat": customer to agent 16,384 bytes."""


@dataclass
class InstanceSetup:
    """What the instance's settings say, beside its contacts. Rules (botocore `connect` model):

    * DescribeContactFlow: "In the response, Status indicates the flow status as either SAVED or PUBLISHED";
      `ContactFlow.State` ACTIVE or ARCHIVED; the operation also declares ContactFlowNotPublishedException ("The flow
      has not been published"). Which of the two a never-published flow gets is not documented: `flows` maps a flow
      id to PUBLISHED, SAVED (answered as Status SAVED), ARCHIVED (State ARCHIVED) or NOT_PUBLISHED (the exception).
    * ListInstanceStorageConfigs(ResourceType): "Returns a paginated list of storage configs for the identified
      instance and resource type"; `StorageType` S3 with `S3Config.BucketName`/`BucketPrefix` (required members).
    * DescribeInstanceAttribute(AttributeType, one of `InstanceAttributeType`'s enum, e.g. MESSAGE_STREAMING):
      `Attribute.Value` "The value of the attribute" (a string; "true"/"false" for the switches).
    * ListLambdaFunctions: "Returns a paginated list of all Lambda functions that display in the dropdown options in
      the relevant flow blocks" (`LambdaFunctions`: "The Lambdafunction ARNs associated with the specified instance").
    """

    flows: dict[str, str] = field(default_factory=dict)
    """Flow id -> PUBLISHED / SAVED / ARCHIVED / NOT_PUBLISHED; a flow of `contact_flow_ids` not named is PUBLISHED."""
    attachments_bucket: str | None = "connect-sandbox-attachments"
    transcripts_bucket: str = "connect-sandbox-transcripts"
    attributes: dict[str, str] = field(default_factory=lambda: {"MESSAGE_STREAMING": "false"})
    lambda_functions: list[str] = field(default_factory=list)


class ConnectBackend:
    """Contacts of one fake Connect account: `instance_ids` and `contact_flow_ids` are what exists (None: any)."""

    def __init__(
        self,
        chats: Chats,
        ids: Ids,
        *,
        instance_ids: Iterable[str] | None = None,
        contact_flow_ids: Iterable[str] | None = None,
        chat_transcripts: bool = True,
    ) -> None:
        self.chats = chats
        self.chat_transcripts = chat_transcripts
        """Whether the instance stores chat transcripts in S3 (its data storage settings); rehydration needs them."""
        self.ids = ids
        self.instance_ids = frozenset(instance_ids) if instance_ids is not None else None
        self.contact_flow_ids = frozenset(contact_flow_ids) if contact_flow_ids is not None else None
        self.start_tokens: dict[tuple[str, str], dict[str, Any]] = {}
        self.participant_tokens: dict[str, tuple[str, str]] = {}
        """ParticipantToken -> (contact id, participant id)."""
        self.setup = InstanceSetup()
        self.open_connection: Callable[[Contact, float, Sequence[str]], dict[str, Any]] | None = None
        """The Participant Service's answer to the ConnectionTypes asked for: the customer's connection information
        (`ConnectionCredentials`, `Websocket`), as CreateParticipantConnection gives it."""

    # ---------------------------------------------------------------- API

    def start_chat_contact(self, params: dict[str, Any], at: float) -> tuple[dict[str, Any], bool]:
        instance_id = params["InstanceId"]
        token = params.get("ClientToken")
        if token and (instance_id, token) in self.start_tokens:
            return self._replayed_start(self.start_tokens[(instance_id, token)]), True
        self._known_instance(instance_id)
        flow_id = params["ContactFlowId"]
        if self.contact_flow_ids is not None and flow_id not in self.contact_flow_ids:
            raise ApiError("ResourceNotFoundException", f"contact flow {flow_id} not found")
        minutes = params.get("ChatDurationInMinutes", DEFAULT_CHAT_MINUTES)
        if not CHAT_MINUTES[0] <= minutes <= CHAT_MINUTES[1]:
            raise ApiError("InvalidParameterException", "ChatDurationInMinutes must be between 60 and 10080")
        initial = params.get("InitialMessage")
        if initial and initial["ContentType"] not in MESSAGE_CONTENT_TYPES:
            raise ApiError(
                "InvalidParameterException", f"InitialMessage ContentType {initial['ContentType']} is not supported"
            )
        if initial and len(initial["Content"].encode("utf-8")) > CONTENT_BYTES_LIMIT:
            raise ApiError("InvalidParameterException", f"InitialMessage is larger than {CONTENT_BYTES_LIMIT} bytes")
        content_types = _content_types(params.get("SupportedMessagingContentTypes"))
        _check_attributes(params.get("Attributes") or {})
        related = params.get("RelatedContactId")
        if related is not None and related not in self.chats.contacts:
            raise ApiError("ResourceNotFoundException", f"related contact {related} not found")
        source = self._rehydration_source(instance_id, params.get("PersistentChat"), related, at)
        connection_types = [t for t in params.get("ConnectionTypes") or [] if t in CONNECTION_TYPES_ANSWERED]
        if connection_types and self.open_connection is None:
            raise ApiError("InternalServiceException", "the connection information asked for cannot be returned")
        display_name = params["ParticipantDetails"]["DisplayName"]
        customer = Participant(self.ids.new_id(), "CUSTOMER", display_name, token=self.ids.new_token("ptok"))
        contact = Contact(
            contact_id=self.ids.new_id(),
            instance_id=instance_id,
            contact_flow_id=flow_id,
            display_name=display_name,
            attributes=dict(params.get("Attributes") or {}),
            started_at=at,
            ends_at=at + minutes * 60,
            customer=customer,
            related_contact_id=related,
            customer_id=params.get("CustomerId"),
            continued_from_contact_id=source.contact_id if source else None,
            content_types=content_types,
        )
        self.chats.contacts[contact.contact_id] = contact
        self.participant_tokens[customer.token or ""] = (contact.contact_id, customer.participant_id)
        response: dict[str, Any] = {
            "ContactId": contact.contact_id,
            "ParticipantId": customer.participant_id,
            "ParticipantToken": customer.token,
        }
        if source is not None:
            source.continued_by = contact.contact_id
            response["ContinuedFromContactId"] = source.contact_id
        if connection_types and self.open_connection is not None:
            response.update(self.open_connection(contact, at, connection_types))
        streaming = params.get("ChatStreamingConfiguration")
        if streaming:
            response["StreamingId"] = self.chats.stream(contact, streaming["StreamingEndpointArn"])
        if initial:
            self.chats.add_text(contact, customer, at, initial["ContentType"], initial["Content"], client_token=token)
        if token:
            self.start_tokens[(instance_id, token)] = copy(response)
        return response, False

    def _replayed_start(self, first: dict[str, Any]) -> dict[str, Any]:
        """botocore StartChatContact.ConnectionTypes: "When you retry a request with the same ClientToken, the response
        repeats the original contact and can omit a websocket URL if the chat has already ended"."""
        response = copy(first)
        if not self.chats.contacts[response["ContactId"]].active:
            response.pop("Websocket", None)
        return response

    def start_contact_streaming(self, params: dict[str, Any], at: float) -> tuple[dict[str, Any], bool]:
        contact = self._contact_on_instance(params["InstanceId"], params["ContactId"])
        arn = params["ChatStreamingConfiguration"]["StreamingEndpointArn"]
        if arn in contact.streaming:
            return {"StreamingId": contact.streaming[arn]}, True
        if not contact.active:
            raise ApiError("InvalidRequestException", f"contact {contact.contact_id} has ended")
        return {"StreamingId": self.chats.stream(contact, arn)}, False

    def stop_contact_streaming(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        contact = self._contact_on_instance(params["InstanceId"], params["ContactId"])
        for arn, streaming_id in list(contact.streaming.items()):
            if streaming_id == params["StreamingId"]:
                del contact.streaming[arn]
                return {}
        raise ApiError("ResourceNotFoundException", f"streaming {params['StreamingId']} not found")

    def update_contact_attributes(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        """botocore UpdateContactAttributes: "Creates or updates user-defined contact attributes ... for both ongoing
        and completed contacts"; the same key and size rules as StartChatContact's Attributes ("up to 32,768 UTF-8
        bytes across all attributes for a contact"), so the merged map is what is checked."""
        contact = self._contact_on_instance(params["InstanceId"], params["InitialContactId"])
        merged = {**contact.attributes, **params["Attributes"]}
        _check_attributes(merged)
        contact.attributes = merged
        return {}

    def stop_contact(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        """botocore StopContact: "Chat and task contacts can be terminated in any state"; ContactNotFoundException:
        "The contact with the specified ID does not exist." So a chat that has ended is answered as stopped, and
        nothing happens to it again."""
        self._known_instance(params["InstanceId"])
        contact = self.chats.contacts.get(params["ContactId"])
        if contact is None or contact.instance_id != params["InstanceId"]:
            raise ApiError("ContactNotFoundException", "The contact with the specified ID does not exist.")
        if contact.active:
            self.chats.end(contact, at, "API", leaving=None)
        return {}

    # ---------------------------------------------------------------- the instance's set-up (InstanceSetup)

    def describe_instance(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        instance_id = params["InstanceId"]
        self._known_instance(instance_id)
        return {
            "Instance": {
                "Id": instance_id,
                "Arn": self._instance_arn(instance_id),
                "IdentityManagementType": "CONNECT_MANAGED",
                "InstanceAlias": "sandbox",
                "InstanceStatus": "ACTIVE",
            }
        }

    def describe_contact_flow(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        instance_id, flow_id = params["InstanceId"], params["ContactFlowId"]
        self._known_instance(instance_id)
        known = self.contact_flow_ids is None or flow_id in self.contact_flow_ids or flow_id in self.setup.flows
        if not known:
            raise ApiError("ResourceNotFoundException", f"contact flow {flow_id} not found")
        status = self.setup.flows.get(flow_id, "PUBLISHED")
        if status == "NOT_PUBLISHED":
            raise ApiError("ContactFlowNotPublishedException", "The flow has not been published.")
        return {
            "ContactFlow": {
                "Arn": f"{self._instance_arn(instance_id)}/contact-flow/{flow_id}",
                "Id": flow_id,
                "Name": f"flow {flow_id}",
                "Type": "CONTACT_FLOW",
                "State": "ARCHIVED" if status == "ARCHIVED" else "ACTIVE",
                "Status": "SAVED" if status == "SAVED" else "PUBLISHED",
                "Content": "{}",
            }
        }

    def list_instance_storage_configs(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        self._known_instance(params["InstanceId"])
        kind = params["ResourceType"]
        bucket = {
            "ATTACHMENTS": self.setup.attachments_bucket,
            "CHAT_TRANSCRIPTS": self.setup.transcripts_bucket if self.chat_transcripts else None,
        }.get(kind)
        if bucket is None:
            return {"StorageConfigs": []}
        s3 = {"BucketName": bucket, "BucketPrefix": f"connect/sandbox/{kind}"}
        return {"StorageConfigs": [{"AssociationId": f"{kind.lower()}-1", "StorageType": "S3", "S3Config": s3}]}

    def describe_instance_attribute(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        self._known_instance(params["InstanceId"])
        kind = params["AttributeType"]
        return {"Attribute": {"AttributeType": kind, "Value": self.setup.attributes.get(kind, "false")}}

    def list_lambda_functions(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        self._known_instance(params["InstanceId"])
        return {"LambdaFunctions": list(self.setup.lambda_functions)}

    def _instance_arn(self, instance_id: str) -> str:
        return f"arn:aws:connect:us-east-1:{self.chats.account_id}:instance/{instance_id}"

    # ---------------------------------------------------------------- the agent's side (sandbox-facing)

    def agent_message(self, contact_id: str, text: str, at: float, *, content_type: str, visibility: str) -> str:
        contact = self.chats.active_contact(contact_id)
        agent = self.chats.agent_joins(contact, at)
        return self.chats.add_text(contact, agent, at, content_type, text, visibility=visibility)

    def bot_answer(self, contact_id: str, chunks: list[str], at: float) -> str:
        """The flow's AI agent answers in streaming mode (`ParticipantConfiguration.ResponseMode` INCREMENTAL)."""
        contact = self.chats.active_contact(contact_id)
        return self.chats.add_streamed_text(contact, self.chats.bot_joins(contact, at), at, chunks)

    def agent_attachment(self, contact_id: str, name: str, content_type: str, data: bytes, at: float) -> str:
        contact = self.chats.active_contact(contact_id)
        agent = self.chats.agent_joins(contact, at)
        attachment = Attachment(
            attachment_id=self.ids.new_id(),
            contact_id=contact_id,
            participant_id=agent.participant_id,
            name=name,
            content_type=content_type,
            declared_size=len(data),
            upload_client_token=None,
            data=bytes(data),
            completed=True,
        )
        self.chats.attachments[attachment.attachment_id] = attachment
        self.chats.add_attachment(attachment, agent, at, None)
        return attachment.attachment_id

    def agent_typing(self, contact_id: str, at: float) -> None:
        contact = self.chats.active_contact(contact_id)
        self.chats.emit_event(contact, self.chats.agent_joins(contact, at), at, TYPING)

    def end_chat(self, contact_id: str, at: float) -> None:
        contact = self.chats.active_contact(contact_id)
        self.chats.end(contact, at, "AGENT_DISCONNECT", leaving=contact.agent)

    # ---------------------------------------------------------------- helpers

    def _rehydration_source(
        self, instance_id: str, persistent: dict[str, Any] | None, related: str | None, at: float
    ) -> Contact | None:
        """The ended contact a persistent chat continues (the rules in the module docstring), or None."""
        if persistent is None:
            return None
        if related is not None:
            raise ApiError(
                "InvalidRequestException", "You cannot provide data for both RelatedContactId and PersistentChat"
            )
        kind = persistent.get("RehydrationType")
        source_id = persistent.get("SourceContactId")
        if kind not in REHYDRATION_TYPES or not source_id:
            raise ApiError(
                "InvalidParameterException", "RehydrationType and SourceContactId are required for persistent chat"
            )
        source = self.chats.contacts.get(source_id)
        if source is None or source.instance_id != instance_id:
            raise ApiError("ResourceNotFoundException", f"contact {source_id} not found")
        if source.active:
            raise ApiError("InvalidRequestException", "Only chat sessions that have ended are allowed to rehydrate")
        if not self.chat_transcripts:
            raise ApiError("InvalidRequestException", "the instance stores no chat transcripts to rehydrate from")
        if at < (source.ended_at or at) + TRANSCRIPT_DELAY_SECONDS:
            raise ApiError("InvalidRequestException", f"the transcript of contact {source_id} is not available yet")
        if source.continued_by is not None:
            raise ApiError("InvalidRequestException", f"contact {source_id} has already been continued")
        return source

    def _known_instance(self, instance_id: str) -> None:
        if self.instance_ids is not None and instance_id not in self.instance_ids:
            raise ApiError("ResourceNotFoundException", f"instance {instance_id} not found")

    def _contact_on_instance(self, instance_id: str, contact_id: str) -> Contact:
        self._known_instance(instance_id)
        contact = self.chats.contacts.get(contact_id)
        if contact is None or contact.instance_id != instance_id:
            raise ApiError("ResourceNotFoundException", f"contact {contact_id} not found")
        return contact


def _check_attributes(attributes: dict[str, str]) -> None:
    for key in attributes:
        if not ATTRIBUTE_KEY.fullmatch(key):
            raise ApiError(
                "InvalidParameterException", f"attribute key {key!r} has characters other than A-Z, 0-9, - and _"
            )
    size = sum(len(k.encode("utf-8")) + len(v.encode("utf-8")) for k, v in attributes.items())
    if size > ATTRIBUTES_BYTES_LIMIT:
        raise ApiError("InvalidParameterException", f"attributes are {size} bytes, over {ATTRIBUTES_BYTES_LIMIT}")


def _content_types(listed: list[str] | None) -> frozenset[str]:
    if listed is None:
        return DEFAULT_CONTENT_TYPES
    unknown = sorted(set(listed) - SUPPORTED_CONTENT_TYPES)
    if unknown:
        raise ApiError(
            "InvalidParameterException", f"SupportedMessagingContentTypes: {', '.join(unknown)} not supported"
        )
    if "text/plain" not in listed:
        raise ApiError("InvalidParameterException", "SupportedMessagingContentTypes must contain text/plain")
    return frozenset(listed)
