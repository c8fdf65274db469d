from policies.identity import CLIENT_IDENTITY_META_KEYS


class ClientIdentityStripMiddleware:
    """Drop the client address and user agent from ``request.META`` (see policies.identity)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for key in CLIENT_IDENTITY_META_KEYS & request.META.keys():
            del request.META[key]
        return self.get_response(request)
