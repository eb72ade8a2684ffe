"""Building blocks of the local fakes of AWS services that moto does not serve (see `sandbox.fake_services`)."""
