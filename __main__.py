"""The whatsapp-buffer stack, the thinnest consumer of the WhatsAppBuffer component: read and validate the stack's
config once, build one WhatsAppBuffer, export what users need."""

from typing import cast

import pulumi

from components import WhatsAppBuffer, WhatsAppBufferArgs
from components.settings import CONFIG_KEYS, SETTINGS_BY_FIELD, ConfigError, parse_settings

config = pulumi.Config()
try:
    # Validated here under the config keys' own names (a bad value names `bufferSeconds`, not `buffer_seconds`).
    settings = parse_settings({key: config.get(key) for key in CONFIG_KEYS})
except ConfigError as error:
    # RunError stops preview with just this line instead of a traceback.
    raise pulumi.RunError(str(error)) from error

# moved_from_root: a stack deployed with the three components at the stack's root keeps them there; the aliases
# this sets make `pulumi up` update them in place.
bridge = WhatsAppBuffer(
    "whatsapp-buffer",
    # Both are written from the one declaration (components.config_docs); WhatsAppBuffer validates them again.
    cast(WhatsAppBufferArgs, {field: getattr(settings, field) for field in SETTINGS_BY_FIELD}),
    moved_from_root=True,
)

# inTopicArn: paste it into End User Messaging Social as the WhatsApp Business Account's event destination.
# sdkLayerArn: the layer every function lists (boto3, botocore and Powertools as runtime/requirements.txt pins them).
for key, field in bridge.OUTPUTS.items():
    if key != "alarmTopicArn":
        pulumi.export(key, getattr(bridge, field))
if settings.alarm_email:
    # Subscribe more people or a pager to this topic; the email subscription must be confirmed first.
    pulumi.export("alarmTopicArn", bridge.alarm_topic_arn)
