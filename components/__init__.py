"""The Pulumi program's building blocks: three ComponentResources and the small helpers they share."""
