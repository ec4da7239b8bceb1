# Locust (FastHttpUser) on the same workload: users in a tight loop.
from locust import FastHttpUser, constant, task


class Blast(FastHttpUser):
    wait_time = constant(0)

    @task
    def get_root(self):
        self.client.get("/")
