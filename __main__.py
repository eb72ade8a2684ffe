"""The whatsapp-buffer stack, the thinnest consumer of the WhatsAppBuffer component: read and validate the stack's
config once into typed settings, build one WhatsAppBuffer from them, export what users need."""

import pulumi

from components import WhatsAppBuffer
from components.stack_config import CONFIG_KEYS, ConfigError, parse_settings

config = pulumi.Config()
try:
    # Validated here under the config keys' own names (a bad value names `bufferSeconds`, not `buffer_seconds`).
    settings = parse_settings({key: config.get(key) for key in CONFIG_KEYS})
except ConfigError as error:
    # RunError stops preview with just this line instead of a traceback.
    raise pulumi.RunError(str(error)) from error

# moved_from_root: this project's stacks may hold the stage components' URNs at the stack's root; the aliases it
# sets let `pulumi up` update those resources in place (docs/component.md).
bridge = WhatsAppBuffer.from_settings("whatsapp-buffer", settings, moved_from_root=True)

# inTopicArn: paste it into End User Messaging Social as the WhatsApp Business Account's event destination.
# sdkLayerArn: the layer every function lists (boto3, botocore and Powertools as runtime/requirements.txt pins them).
for key, field in bridge.OUTPUTS.items():
    if key != "alarmTopicArn":
        pulumi.export(key, getattr(bridge, field))
if settings.alarm_email:
    # Subscribe more people or a pager to this topic; the email subscription must be confirmed first.
    pulumi.export("alarmTopicArn", bridge.alarm_topic_arn)
