package dev.hmmmirror.vm.runner;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.transport.SSLConfig;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.SetupException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.testcontainers.shaded.com.github.dockerjava.core.DefaultDockerClientConfig;
import org.testcontainers.shaded.com.github.dockerjava.core.DockerClientImpl;
import org.testcontainers.shaded.com.github.dockerjava.core.RemoteApiVersion;

/**
 * One Docker engine, spoken to with docker-java (the client Testcontainers makes for an address):
 * this host's engine on its unix socket, whose containers can bind-mount this host's paths, or an
 * engine at an address ({@code tcp://HOST:PORT}, TLS as the user configured it through
 * {@code DOCKER_TLS_VERIFY} / {@code DOCKER_CERT_PATH}) that shares no files with this host.
 * Every call made through {@link #call} has a time limit, so an engine that stops answering fails
 * the call instead of hanging it.
 */
public final class DockerEngine implements AutoCloseable {
    private final String host;
    private final boolean sharesFiles;
    private final DockerClient client;

    private DockerEngine(String host, boolean sharesFiles, DockerClient client) {
        this.host = host;
        this.sharesFiles = sharesFiles;
        this.client = client;
    }

    /** This host's engine: {@code DOCKER_HOST=unix://...}, else {@code /var/run/docker.sock}. Its containers see this host's paths. */
    public static DockerEngine local(Settings settings) {
        return connect(localSocket(settings).map(p -> "unix://" + p).orElseThrow(() -> new SetupException(
                "DOCKER_HOST is " + settings.foreignEnv("DOCKER_HOST").orElse("") + ", not a unix socket of this host: "
                        + "name a remote engine with --runner docker:ADDRESS (-Dhmm.runner=docker:ADDRESS)")), true);
    }

    /** The engine at {@code host} ({@code tcp://HOST:PORT} or any address docker-java takes), sharing no files with this host. */
    public static DockerEngine remote(String host) {
        return connect(host, false);
    }

    /** The unix socket of this host's engine, unless {@code DOCKER_HOST} names another kind of address. */
    static Optional<Path> localSocket(Settings settings) {
        String host = settings.foreignEnv("DOCKER_HOST").orElse(null);
        if (host == null) {
            return Optional.of(Path.of("/var/run/docker.sock"));
        }
        return host.startsWith("unix://") ? Optional.of(Path.of(host.substring("unix://".length()))) : Optional.empty();
    }

    private static DockerEngine connect(String host, boolean sharesFiles) {
        URI uri = URI.create(host);
        SSLConfig ssl = tls(uri);
        // the ping must not hang us on a hung engine
        DockerClient client = limited(30, "connect to the Docker engine " + host, () -> client(uri, ssl));
        return new DockerEngine(host, sharesFiles, client);
    }

    /**
     * A docker-java client for the engine at {@code uri}, pinged: API 1.44, else 1.32 for an older
     * engine (what Testcontainers' {@code getClientForConfig} does). Made here rather than by that
     * method because its client resolves registry credentials through Testcontainers' own engine
     * discovery ({@code AuthDelegatingDockerClientConfig} -> {@code RegistryAuthLocator} ->
     * {@code DockerClientFactory.instance()}), on every {@code createContainerCmd}: with no engine
     * on this host, creating a container on a remote engine failed with "Could not find a valid
     * Docker environment" (CI before dockerd started). The runner pulls nothing, so it needs no
     * registry credentials; the docker client's own {@code ~/.docker/config.json} is still read.
     */
    private static DockerClient client(URI uri, SSLConfig ssl) {
        DockerHttpClient http = new com.github.dockerjava.zerodep.ZerodepDockerHttpClient.Builder().dockerHost(uri)
                .sslConfig(ssl).build();
        RuntimeException first = null;
        for (RemoteApiVersion api : List.of(RemoteApiVersion.VERSION_1_44, RemoteApiVersion.VERSION_1_32)) {
            DefaultDockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                    .withDockerHost(uri.toString()).withApiVersion(api).build();
            DockerClient client = DockerClientImpl.getInstance(config, http);
            try {
                client.pingCmd().exec();
                return client;
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        throw new SetupException("the Docker engine " + uri + " does not answer a ping: " + first.getMessage(), first);
    }

    /**
     * TLS for a tcp engine when {@code DOCKER_TLS_VERIFY} is set, from {@code DOCKER_CERT_PATH}
     * (default {@code ~/.docker}): ca.pem, cert.pem, key.pem, as the docker client reads them.
     * Testcontainers' docker-java reads these files (its shaded {@code LocalDirectorySSLConfig});
     * the project does not add a second docker-java core for that one class.
     */
    @SuppressWarnings("deprecation")
    private static SSLConfig tls(URI uri) {
        String verify = System.getenv("DOCKER_TLS_VERIFY");
        if (!"tcp".equals(uri.getScheme()) || verify == null || verify.isBlank() || verify.equals("0")) {
            return null;
        }
        String certs = Optional.ofNullable(System.getenv("DOCKER_CERT_PATH")).filter(s -> !s.isBlank())
                .orElse(Path.of(System.getProperty("user.home"), ".docker").toString());
        return new org.testcontainers.shaded.com.github.dockerjava.core.LocalDirectorySSLConfig(certs);
    }

    /** The engine's address as given. */
    public String host() {
        return host;
    }

    /** Whether its containers can bind-mount this host's paths (this host's engine). */
    public boolean sharesFiles() {
        return sharesFiles;
    }

    /** The docker-java client; calls that may block on the engine go through {@link #call}. */
    public DockerClient client() {
        return client;
    }

    /** The engine's version, if it answers within {@code seconds}. */
    public Optional<String> ping(long seconds) {
        try {
            return Optional.of(call(seconds, "ask the engine's version", () -> client.versionCmd().exec().getVersion()));
        } catch (SetupException e) {
            return Optional.empty();
        }
    }

    /** The version of the engine at {@code host}, if it answers within {@code seconds}. */
    public static Optional<String> ping(String host, long seconds) {
        try (DockerEngine e = remote(host)) {
            return e.ping(seconds);
        } catch (SetupException e) {
            return Optional.empty();
        }
    }

    /**
     * Imports {@code tar}, a root file system, as image {@code repository:tag} ({@code docker
     * import -}: {@code POST /images/create?fromSrc=-}), with at most {@code seconds}. Sent through
     * docker-java's transport (the client's own HTTP connection to the engine): docker-java's
     * {@code createImageCmd(repository, stream)} sends the body {@code {}} instead of the stream
     * (docker-java issue 2377; the engine answers "unexpected EOF").
     */
    public void importImage(InputStream tar, String repository, String tag, long seconds) {
        if (!(client instanceof DockerClientImpl impl)) {
            throw new SetupException("cannot import an image: the Docker client is a " + client.getClass().getName()
                    + ", not docker-java's DockerClientImpl (a Testcontainers version this runner does not know?)");
        }
        DockerHttpClient http = impl.getHttpClient();
        String path = "/images/create?fromSrc=-&repo=" + URLEncoder.encode(repository, StandardCharsets.UTF_8) + "&tag="
                + URLEncoder.encode(tag, StandardCharsets.UTF_8);
        call(seconds, "import an image as " + repository + ":" + tag, () -> {
            DockerHttpClient.Request request = DockerHttpClient.Request.builder().method(DockerHttpClient.Request.Method.POST)
                    .path(path).putHeader("Content-Type", "application/x-tar").body(tar).build();
            try (DockerHttpClient.Response r = http.execute(request)) {
                String answer = new String(r.getBody().readAllBytes(), StandardCharsets.UTF_8).strip();
                // a refusal after the stream began comes as 200 with an error object
                if (r.getStatusCode() != 200 || answer.contains("\"errorDetail\"") || answer.contains("\"error\"")) {
                    throw new SetupException("the engine refused the import (HTTP " + r.getStatusCode() + "): " + answer);
                }
            }
            return null;
        });
    }

    /** {@code action} on this engine, failing after {@code seconds} ("the engine does not answer?") or with its error. */
    public <T> T call(long seconds, String what, Callable<T> action) {
        return limited(seconds, what + " on the Docker engine " + host, action);
    }

    private static <T> T limited(long seconds, String what, Callable<T> action) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread t = Thread.ofVirtual().name("docker-call").start(() -> {
            try {
                f.complete(action.call());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        try {
            return f.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            t.interrupt();
            throw new SetupException("cannot " + what + ": no answer in " + seconds + " s (the Docker engine does not answer?)", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof SetupException s) {
                throw s;
            }
            throw new SetupException("cannot " + what + ": " + (c.getMessage() == null ? c : c.getMessage()), c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            t.interrupt();
            throw new SetupException("interrupted while trying to " + what, e);
        }
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException e) {
            // the engine is gone
        }
    }
}
