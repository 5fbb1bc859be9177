package dev.hmmmirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The shape of the module: what it exports, that its exported API has no FFM type, and that no
 * code outside java-bindings reaches into its internals. Runs on the module path and on the
 * class path (see the pom).
 */
class ModuleShapeTest {
    private static final Path CLASSES = classesDir();

    private static Path classesDir() {
        try {
            return Path.of(Mirror.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static ModuleDescriptor descriptor() {
        return ModuleFinder.of(CLASSES).findAll().iterator().next().descriptor();
    }

    @Test
    void theModuleExportsTheApiAndTheRawPackageOnly() {
        ModuleDescriptor d = descriptor();
        assertEquals("dev.hmmmirror", d.name());
        assertEquals(Set.of("dev.hmmmirror", "dev.hmmmirror.raw"),
                d.exports().stream().filter(e -> !e.isQualified()).map(ModuleDescriptor.Exports::source)
                        .collect(Collectors.toSet()));
        assertTrue(d.packages().containsAll(Set.of("dev.hmmmirror.internal", "dev.hmmmirror.internal.gen")),
                d.packages().toString());
        assertTrue(d.opens().isEmpty() && !d.isOpen(), "nothing is opened for reflection");
    }

    @Test
    void theTestsRunWhereThePomSays() {
        // module path: the tests are patched into the named module; class path: unnamed
        boolean named = Mirror.class.getModule().isNamed();
        assertEquals(named ? "dev.hmmmirror" : null, Mirror.class.getModule().getName());
        if (named) {
            assertTrue(!Mirror.class.getModule().getDescriptor().exports().stream()
                    .anyMatch(e -> e.source().startsWith("dev.hmmmirror.internal")));
        }
    }

    @Test
    void theExportedApiHasNoFfmType() throws Exception {
        List<String> offenders = new ArrayList<>();
        for (String pkg : List.of("dev.hmmmirror", "dev.hmmmirror.raw")) {
            try (Stream<Path> files = Files.list(CLASSES.resolve(pkg.replace('.', '/')))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                    String name = f.getFileName().toString().replace(".class", "");
                    if (name.equals("package-info")) {
                        continue;
                    }
                    Class<?> c = Class.forName(pkg + "." + name, false, Mirror.class.getClassLoader());
                    if (!Modifier.isPublic(c.getModifiers())) {
                        continue;
                    }
                    for (Method m : c.getDeclaredMethods()) {
                        check(c, m, m.getGenericReturnType(), offenders);
                    }
                    for (var k : c.getDeclaredConstructors()) {
                        check(c, k, null, offenders);
                    }
                    for (Field fl : c.getDeclaredFields()) {
                        if (Modifier.isPublic(fl.getModifiers()) && ffm(fl.getGenericType())) {
                            offenders.add(c.getName() + "." + fl.getName());
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), offenders, "public API members with java.lang.foreign types");
    }

    private static void check(Class<?> c, Executable e, Type ret, List<String> offenders) {
        if (!Modifier.isPublic(e.getModifiers()) && !Modifier.isProtected(e.getModifiers())) {
            return;
        }
        boolean bad = ret != null && ffm(ret);
        for (Type p : e.getGenericParameterTypes()) {
            bad |= ffm(p);
        }
        if (bad) {
            offenders.add(c.getName() + "." + e.getName());
        }
    }

    private static boolean ffm(Type t) {
        return t.getTypeName().contains("java.lang.foreign.");
    }

    @Test
    void nothingOutsideJavaBindingsImportsItsInternals() throws Exception {
        Path root = LayoutProbeTest.ROOT;
        Set<String> offenders = new TreeSet<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Path rel = root.relativize(f);
                if (rel.startsWith("java-bindings") || rel.toString().contains("/target/")
                        || rel.getName(0).toString().startsWith(".")) {
                    continue;
                }
                if (Files.readString(f).contains("dev.hmmmirror.internal")) {
                    offenders.add(rel.toString());
                }
            }
        }
        if (!offenders.isEmpty()) {
            fail("dev.hmmmirror.internal is not exported; use the API or dev.hmmmirror.raw instead, in " + offenders);
        }
    }
}
