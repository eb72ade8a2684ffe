"""One adapter per AWS service (or table): boto3 stays here, and botocore errors become `whatsapp_buffer.errors`."""
