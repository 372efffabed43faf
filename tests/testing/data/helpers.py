# The helper methods that print protocol lines or look up the network address.
def instance0():
    print(multitest.get_network_ip() == HOST_IP, HOST_IP.count("."))

    def instance0_resume():
        pass

    multitest.expect_reboot(instance0_resume, 500)
    multitest.next()


def instance1():
    global nic

    class nic:
        @staticmethod
        def ifconfig():
            return ("192.0.2.7", "255.255.255.0", "192.0.2.1", "192.0.2.1")

    print(multitest.get_network_ip())
