package dev.hmmmirror.vm.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.hmmmirror.vm.host.SetupException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The runner's Docker client speaks to the engine it was given and to nothing else: a container
 * created on an engine at an address must not make Testcontainers look for an engine on this host
 * (its registry-credential lookup does, and on a host with no engine it failed the remote run with
 * "Could not find a valid Docker environment"). A fake engine on a loopback port answers the calls.
 */
class DockerEngineTest {

    /** A loopback HTTP server answering {@code _ping} and {@code containers/create} as an engine of API {@code api} would. */
    private static HttpServer fakeEngine(String api, List<String> requests) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            requests.add(exchange.getRequestMethod() + " " + path);
            if (path.equals("/v" + api + "/_ping")) {
                answer(exchange, 200, "text/plain", "OK");
            } else if (path.equals("/v" + api + "/containers/create")) {
                answer(exchange, 201, "application/json", "{\"Id\":\"0123abcd\",\"Warnings\":[]}");
            } else {
                answer(exchange, 404, "application/json", "{\"message\":\"page not found\"}");
            }
        });
        server.start();
        return server;
    }

    private static void answer(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        try (var out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static Object testcontainersEngineDiscovery() throws ReflectiveOperationException {
        var field = org.testcontainers.DockerClientFactory.class.getDeclaredField("instance");
        field.setAccessible(true);
        return field.get(null);
    }

    @Test
    void creatingAContainerOnAnEngineAtAnAddressAsksNoOtherEngine() throws Exception {
        assertNull(testcontainersEngineDiscovery(), "precondition: nothing in this JVM started Testcontainers' discovery");
        List<String> requests = new CopyOnWriteArrayList<>();
        HttpServer server = fakeEngine("1.44", requests);
        String host = "tcp://127.0.0.1:" + server.getAddress().getPort();
        try (DockerEngine engine = DockerEngine.remote(host)) {
            String id = engine.call(30, "create a container",
                    () -> engine.client().createContainerCmd("hmm-runner:test").withName("hmm-test").exec().getId());
            assertEquals("0123abcd", id);
        } finally {
            server.stop(0);
        }
        assertTrue(requests.contains("POST /v1.44/containers/create"), "the engine got the call: " + requests);
        assertNull(testcontainersEngineDiscovery(),
                "creating a container started Testcontainers' search for an engine of this host (no engine here: the call fails)");
    }

    @Test
    void anOlderEngineIsSpokenToInApi132() throws Exception {
        List<String> requests = new CopyOnWriteArrayList<>();
        HttpServer server = fakeEngine("1.32", requests);
        try (DockerEngine engine = DockerEngine.remote("tcp://127.0.0.1:" + server.getAddress().getPort())) {
            assertEquals("0123abcd", engine.client().createContainerCmd("hmm-runner:test").exec().getId());
        } finally {
            server.stop(0);
        }
        assertTrue(requests.contains("POST /v1.32/containers/create"), "API 1.32 after 1.44 failed: " + requests);
    }

    @Test
    void anAddressWhereNoEngineAnswersSaysSo() throws Exception {
        int port;
        try (var socket = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort(); // nothing listens there once it is closed
        }
        SetupException e = assertThrows(SetupException.class, () -> DockerEngine.remote("tcp://127.0.0.1:" + port));
        assertTrue(e.getMessage().contains("tcp://127.0.0.1:" + port), e.getMessage());
    }
}
