package dev.hmmmirror.programs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeDynamicInstruction;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The guest programs concatenate through StringBuilder (javac's -XDstringConcat=inline, this module's
 * pom): a concatenation through invokedynamic spins a class in the guest JVM the first time its site
 * runs, which the device demo (the first result of hmm demo and hmm bench) cannot afford under TCG.
 */
class ConcatenationTest {
    @Test
    void theDeviceDemoConcatenatesWithoutInvokedynamic() throws IOException {
        List<String> sites = stringConcatSites(DeviceDemo.class);
        assertEquals(List.of(), sites, "DeviceDemo's concatenations through StringConcatFactory");
        assertTrue(builderCalls(DeviceDemo.class) > 0, "DeviceDemo builds its lines with StringBuilder");
    }

    private static ClassModel model(Class<?> c) throws IOException {
        try (InputStream in = c.getResourceAsStream(c.getSimpleName() + ".class")) {
            return ClassFile.of().parse(in.readAllBytes());
        }
    }

    private static List<String> stringConcatSites(Class<?> c) throws IOException {
        List<String> sites = new ArrayList<>();
        for (MethodModel m : model(c).methods()) {
            m.code().ifPresent(code -> code.forEach(e -> {
                if (e instanceof InvokeDynamicInstruction i
                        && i.bootstrapMethod().owner().descriptorString().equals("Ljava/lang/invoke/StringConcatFactory;")) {
                    sites.add(m.methodName().stringValue() + ": " + i.name().stringValue());
                }
            }));
        }
        return sites;
    }

    private static long builderCalls(Class<?> c) throws IOException {
        return model(c).methods().stream().flatMap(m -> m.code().stream()).flatMap(code -> code.elementStream())
                .filter(e -> e instanceof java.lang.classfile.instruction.InvokeInstruction i
                        && i.owner().asInternalName().equals("java/lang/StringBuilder"))
                .count();
    }
}
